using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>Features of one batch: pooled (FID-like), spatial (sFID-like) and, for classifiers, logits (IS).</summary>
public sealed record FeatureBatch(Tensor Pooled, Tensor Spatial, Tensor? Logits);

/// <summary>
/// The contract every feature network (Inception-v3 for FID, ImageNet ResNet-18 here) meets: uint8 N×H×W×3 images in,
/// float32 features out. Each implementation documents its own resize and scaling; all images go through the same one.
/// </summary>
public interface IFeatureNetwork : IDisposable
{
    /// <summary>Names the feature space in every printed label and in statistics files.</summary>
    string Name { get; }
    /// <summary>Label of the Fréchet distance on pooled features ("FID", "FD-R18").</summary>
    string PooledMetric { get; }
    /// <summary>Label of the Fréchet distance on spatial features ("sFID", "sFD-R18").</summary>
    string SpatialMetric { get; }
    int PooledSize { get; }
    int SpatialSize { get; }
    bool HasClassifier { get; }
    FeatureBatch Extract(Tensor uint8Nhwc);
}
