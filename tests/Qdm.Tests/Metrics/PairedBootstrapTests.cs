using Qdm.Metrics;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class PairedBootstrapTests
{
    private const int Dim = 8, N = 300;
    private static readonly GaussianStatistics Reference =
        new(full(Dim, 0.2, ScalarType.Float64), eye(Dim, dtype: ScalarType.Float64) * 1.5, 10_000);

    /// <summary>Two "models" seeing the same seeds z: B is A slightly changed, plus noise of its own (like quantization).</summary>
    private static (Tensor A, Tensor B) PairedSets(Generator g)
    {
        var mixA = eye(Dim, dtype: ScalarType.Float64) + 0.3 * randn(new long[] { Dim, Dim }, ScalarType.Float64, generator: new Generator(11));
        var mixB = mixA + 0.1 * randn(new long[] { Dim, Dim }, ScalarType.Float64, generator: new Generator(12));
        var z = randn(new long[] { N, Dim }, ScalarType.Float64, generator: g);
        return (z.matmul(mixA), z.matmul(mixB) + 0.2 * randn(new long[] { N, Dim }, ScalarType.Float64, generator: g));
    }

    private static double Fd(Tensor features) => FrechetDistance.Compute(GaussianStatistics.FromFeatures(features), Reference);

    private static double Std(IReadOnlyList<double> v) => Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Count - 1));

    [Fact]
    public void Distances_to_a_fixed_reference_equal_the_plain_Frechet_distance()
    {
        var (a, _) = PairedSets(new Generator(1));
        var identity = new[] { Enumerable.Range(0, N).Select(i => (long)i).ToArray() };
        Approx.Equal(Fd(a), PairedBootstrap.Distances(a, Reference, identity)[0], 1e-10);
    }

    [Fact]
    public void The_bootstrap_spread_of_a_paired_gap_matches_the_spread_over_fresh_seed_sets()
    {
        // Truth: the gap FD(A) − FD(B) over 80 independent draws of the N seeds.
        var g = new Generator(5);
        var gaps = new List<double>();
        var singles = new List<double>();
        for (int i = 0; i < 80; i++)
        {
            var (a, b) = PairedSets(g);
            gaps.Add(Fd(a) - Fd(b));
            singles.Add(Fd(a));
        }
        double trueGapStd = Std(gaps), trueSingleStd = Std(singles);
        Assert.True(trueGapStd < 0.5 * trueSingleStd, "the setting must make pairing matter, else the test cannot tell paired from unpaired resampling");

        // Estimate from one draw, as the reproduction has only one set per row.
        var (oneA, oneB) = PairedSets(new Generator(99));
        var indices = PairedBootstrap.Indices(N, replicates: 150, seed: 3);
        double estimate = PairedBootstrap.GapStd(PairedBootstrap.Distances(oneA, Reference, indices), PairedBootstrap.Distances(oneB, Reference, indices));
        Assert.InRange(estimate / trueGapStd, 0.6, 1.6);

        // Resampling the two sets independently (unpaired) would overstate the gap's noise by far.
        var other = PairedBootstrap.Indices(N, replicates: 150, seed: 4);
        double unpaired = PairedBootstrap.GapStd(PairedBootstrap.Distances(oneA, Reference, indices), PairedBootstrap.Distances(oneB, Reference, other));
        Assert.True(unpaired > 1.5 * estimate);
    }

    [Fact]
    public void Identical_sets_have_no_gap_noise_and_the_indices_depend_only_on_the_seed()
    {
        var (a, _) = PairedSets(new Generator(2));
        var indices = PairedBootstrap.Indices(N, replicates: 20, seed: 7);
        var d = PairedBootstrap.Distances(a, Reference, indices);
        Assert.Equal(0, PairedBootstrap.GapStd(d, d));
        Assert.Equal(indices.SelectMany(x => x), PairedBootstrap.Indices(N, 20, 7).SelectMany(x => x));
        Assert.All(indices.SelectMany(x => x), i => Assert.InRange(i, 0, N - 1));
    }
}
