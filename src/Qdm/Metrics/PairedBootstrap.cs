using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Sampling noise of Fréchet distances of sample sets that share their seeds: image i of every set comes from the same
/// initial noise x_T. Each replicate draws N image indices with replacement — the same indices for every set (a paired
/// bootstrap, Efron &amp; Tibshirani 1993, ch. 6) — and recomputes each set's distance to the fixed reference. The spread
/// of FD(A) − FD(B) over replicates is the noise of that gap due to which N seeds were drawn; it does not cover the
/// calibration seed, whose spread the reproduction measures separately.
/// </summary>
public static class PairedBootstrap
{
    /// <summary>Replicate k resamples the same indices for any set of <paramref name="count"/> images and the same seed.</summary>
    public static long[][] Indices(long count, int replicates, long seed)
    {
        var generator = new Generator((ulong)seed);
        return Enumerable.Range(0, replicates)
            .Select(_ => randint(0, count, new[] { count }, dtype: ScalarType.Int64, generator: generator).data<long>().ToArray())
            .ToArray();
    }

    /// <summary>FD of the resampled set to the reference, one value per replicate (same order as <paramref name="indices"/>).</summary>
    public static double[] Distances(Tensor features, GaussianStatistics reference, long[][] indices, IProgress<int>? progress = null)
    {
        var distance = FrechetDistance.To(reference);
        var x = features.to(ScalarType.Float64);
        var result = new double[indices.Length];
        for (int k = 0; k < indices.Length; k++)
        {
            if (indices[k].Length != x.shape[0])
                throw new ArgumentException($"replicate {k} resamples {indices[k].Length} images, the set has {x.shape[0]}.");
            using var scope = NewDisposeScope();
            result[k] = distance(GaussianStatistics.FromFeatures(x.index_select(0, tensor(indices[k]))));
            progress?.Report(k + 1);
        }
        return result;
    }

    /// <summary>Standard deviation over replicates of FD(A) − FD(B), from both sets' replicate distances.</summary>
    public static double GapStd(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count || a.Count < 2) throw new ArgumentException($"paired replicates needed, got {a.Count} and {b.Count}.");
        return SampleStatistics.Std(a.Zip(b, (x, y) => x - y).ToArray());
    }
}
