using static TorchSharp.torch;

namespace Qdm.Metrics.Inception;

/// <summary>pytorch-fid's FID Inception as a feature network: pool3 (2048), sFID's mixed_6/conv[:7] (2023), logits (1008).</summary>
public sealed class InceptionFeatureNetwork(FidInceptionV3 model) : IFeatureNetwork
{
    public string Name => "inception-v3-fid (pytorch-fid weights, bilinear resize to 299)";
    public string PooledMetric => "FID";
    public string SpatialMetric => "sFID";
    public int PooledSize => FidInceptionV3.Pool3Size;
    public int SpatialSize => FidInceptionV3.SpatialSize;
    public bool HasClassifier => true;

    public static InceptionFeatureNetwork Load(string weightsPath) => new(InceptionWeights.Load(weightsPath));

    public FeatureBatch Extract(Tensor uint8Nhwc)
    {
        using var _ = no_grad();
        using var input = FidInceptionV3.Preprocess(uint8Nhwc);
        var features = model.Features(input);
        return new FeatureBatch(features.Pool3, features.Spatial, features.Logits);
    }

    public void Dispose() => model.Dispose();
}
