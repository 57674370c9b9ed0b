using Qdm.Metrics;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class PairedGapTests
{
    private static readonly GaussianStatistics Reference = new(zeros(4, ScalarType.Float64), eye(4, dtype: ScalarType.Float64), 1000);

    private static double Fd(Tensor x) => FrechetDistance.Compute(GaussianStatistics.FromFeatures(x), Reference);

    [Fact]
    public void Gap_and_disjoint_subset_gaps_are_plain_Frechet_distances_of_the_rows()
    {
        var g = new Generator(8);
        var a = randn(new long[] { 90, 4 }, ScalarType.Float64, generator: g);
        var b = 1.2 * a + 0.1 * randn(new long[] { 90, 4 }, ScalarType.Float64, generator: g);
        var gap = PairedGap.Measure(a, b, Reference, replicates: 10, subsets: 3);

        Approx.Equal(Fd(a), gap.FdA, 1e-10);
        Approx.Equal(Fd(a) - Fd(b), gap.Gap, 1e-10);
        for (int k = 0; k < 3; k++)
            Approx.Equal(Fd(a[(30 * k)..(30 * k + 30)]) - Fd(b[(30 * k)..(30 * k + 30)]), gap.SubsetGaps[k], 1e-10);
        Assert.True(gap.BootstrapStd > 0 && gap.SubsetStd > 0 && gap.SubsetBootstrapStd > 0);
    }

    [Fact]
    public void Sets_of_different_sizes_or_too_many_subsets_are_refused()
    {
        Assert.Throws<QdmInputException>(() => PairedGap.Measure(zeros(10, 4), zeros(9, 4), Reference, 10, 0));
        Assert.Throws<QdmInputException>(() => PairedGap.Measure(randn(10, 4), randn(10, 4), Reference, 10, 6));
    }
}
