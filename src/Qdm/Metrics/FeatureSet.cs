using Qdm.Nn;
using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>All features of an image set, extracted batch by batch.</summary>
public sealed record FeatureSet(string Network, Tensor Pooled, Tensor Spatial, Tensor? Logits)
{
    public long Count => Pooled.shape[0];

    /// <summary>
    /// Extracts features batch by batch into tensors allocated once for the whole set, returning freed heap pages after
    /// every batch (see <see cref="NativeHeap"/>: without both, ~30 MB per ResNet-18 batch was never given back).
    /// </summary>
    public static FeatureSet Extract(IFeatureNetwork network, IImageSource images, int batchSize = 50, IProgress<long>? progress = null,
        CancellationToken cancel = default)
    {
        long total = images.Count, done = 0;
        Tensor? pooled = null, spatial = null, logits = null;
        foreach (var batch in images.Batches(batchSize))
        {
            cancel.ThrowIfCancellationRequested();
            var features = network.Extract(batch);
            long n = batch.shape[0];
            pooled ??= empty(total, features.Pooled.shape[1]);
            spatial ??= empty(total, features.Spatial.shape[1]);
            if (features.Logits is not null) logits ??= empty(total, features.Logits.shape[1]);
            using (no_grad())
            {
                pooled[TensorIndex.Slice(done, done + n)] = features.Pooled;
                spatial[TensorIndex.Slice(done, done + n)] = features.Spatial;
                if (features.Logits is not null) logits![TensorIndex.Slice(done, done + n)] = features.Logits;
            }
            features.Pooled.Dispose();
            features.Spatial.Dispose();
            features.Logits?.Dispose();
            batch.Dispose();
            NativeHeap.Trim();
            done += n;
            progress?.Report(done);
        }
        if (pooled is null || done != total) throw new QdmInputException($"{images.Description} delivered {done} of {total} images.");
        return new FeatureSet(network.Name, pooled, spatial!, logits);
    }

    public ReferenceStatistics Statistics(bool keepFeatures = true) =>
        new(Network, GaussianStatistics.FromFeatures(Pooled), GaussianStatistics.FromFeatures(Spatial), keepFeatures ? Pooled : null);
}
