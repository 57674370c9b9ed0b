using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// FD(A) − FD(B) to one reference for two sample sets from the same seeds (row i of A and of B share x_T), with two
/// estimates of its sampling noise: the paired bootstrap over all N rows, and the spread of the same gap over K disjoint
/// subsets of N/K rows (no resampling assumptions, but noisy with few subsets and measured at N/K rows, not N).
/// </summary>
public sealed record PairedGap(double FdA, double FdB, long Count, double BootstrapStd, int Replicates, IReadOnlyList<double> SubsetGaps, double SubsetBootstrapStd)
{
    public double Gap => FdA - FdB;

    public static PairedGap Measure(Tensor a, Tensor b, GaussianStatistics reference, int replicates, int subsets, long seed = 0)
    {
        if (a.shape[0] != b.shape[0] || a.shape[1] != b.shape[1])
            throw new QdmInputException($"paired sets need equal shapes, got [{string.Join(",", a.shape)}] and [{string.Join(",", b.shape)}].");
        long n = a.shape[0];
        if (subsets < 0 || (subsets > 0 && n / subsets < 2))
            throw new QdmInputException($"{subsets} subsets of {n} rows leave fewer than 2 rows each.");
        var distance = FrechetDistance.To(reference);
        double Fd(Tensor x) => distance(GaussianStatistics.FromFeatures(x));
        double BootstrapStd(Tensor x, Tensor y)
        {
            if (replicates < 2) return double.NaN;
            var indices = PairedBootstrap.Indices(x.shape[0], replicates, seed);
            return PairedBootstrap.GapStd(PairedBootstrap.Distances(x, reference, indices), PairedBootstrap.Distances(y, reference, indices));
        }

        var subsetGaps = new List<double>();
        var subsetBootstrap = new List<double>();
        for (int k = 0; k < subsets; k++)
        {
            long start = n * k / subsets, end = n * (k + 1) / subsets;
            Tensor sa = a.narrow(0, start, end - start), sb = b.narrow(0, start, end - start);
            subsetGaps.Add(Fd(sa) - Fd(sb));
            subsetBootstrap.Add(BootstrapStd(sa, sb));
        }
        return new PairedGap(Fd(a), Fd(b), n, BootstrapStd(a, b), replicates, subsetGaps,
            subsetBootstrap.Count == 0 ? double.NaN : subsetBootstrap.Average());
    }

    /// <summary>Sample standard deviation of the subset gaps (NaN below two subsets).</summary>
    public double SubsetStd => SampleStatistics.Std(SubsetGaps);
}
