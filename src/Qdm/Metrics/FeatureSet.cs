using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>All features of an image set, extracted batch by batch.</summary>
public sealed record FeatureSet(string Network, Tensor Pooled, Tensor Spatial, Tensor? Logits)
{
    public long Count => Pooled.shape[0];

    public static FeatureSet Extract(IFeatureNetwork network, IImageSource images, int batchSize = 50, IProgress<long>? progress = null,
        CancellationToken cancel = default)
    {
        var pooled = new List<Tensor>();
        var spatial = new List<Tensor>();
        var logits = new List<Tensor>();
        long done = 0;
        foreach (var batch in images.Batches(batchSize))
        {
            cancel.ThrowIfCancellationRequested();
            var features = network.Extract(batch);
            pooled.Add(features.Pooled);
            spatial.Add(features.Spatial);
            if (features.Logits is not null) logits.Add(features.Logits);
            done += batch.shape[0];
            progress?.Report(done);
        }
        return new FeatureSet(network.Name, cat(pooled, 0), cat(spatial, 0), logits.Count > 0 ? cat(logits, 0) : null);
    }

    public ReferenceStatistics Statistics(bool keepFeatures = true) =>
        new(Network, GaussianStatistics.FromFeatures(Pooled), GaussianStatistics.FromFeatures(Spatial), keepFeatures ? Pooled : null);
}
