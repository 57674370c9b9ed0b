using Qdm.IO;
using Qdm.Metrics;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class FrechetDistanceTests
{
    private static GaussianStatistics Stats(double[] mu, double[,] sigma) =>
        new(tensor(mu, ScalarType.Float64), tensor(sigma, ScalarType.Float64), 100);

    [Fact]
    public void Diagonal_and_commonly_rotated_covariances_give_the_closed_form()
    {
        double[] a = { 1.0, 4.0, 0.25 }, b = { 9.0, 1.0, 0.36 };
        double[] mu1 = { 0.5, -1, 2 }, mu2 = { 1.5, 1, 2 };
        // d² = ‖μ₁ − μ₂‖² + Σ (√a − √b)² when Σ₁ and Σ₂ commute.
        double expected = 1 + 4 + 0 + Math.Pow(1 - 3, 2) + Math.Pow(2 - 1, 2) + Math.Pow(0.5 - 0.6, 2);
        Approx.Equal(expected, FrechetDistance.Compute(Stats(mu1, Diag(a)), Stats(mu2, Diag(b))), 1e-12);

        var r = RandomRotation(3, seed: 4);
        Approx.Equal(expected, FrechetDistance.Compute(
            new GaussianStatistics(tensor(mu1, ScalarType.Float64), r.matmul(tensor(Diag(a), ScalarType.Float64)).matmul(r.t()), 100),
            new GaussianStatistics(tensor(mu2, ScalarType.Float64), r.matmul(tensor(Diag(b), ScalarType.Float64)).matmul(r.t()), 100)), 1e-10);
    }

    [Fact]
    public void Non_commuting_2x2_covariances_match_the_2x2_trace_formula()
    {
        // For 2×2, tr √M = √(tr M + 2√det M) with M = Σ₁Σ₂ (its eigenvalues are real and non-negative).
        double[,] s1 = { { 2.0, 0.7 }, { 0.7, 1.0 } }, s2 = { { 0.5, -0.2 }, { -0.2, 3.0 } };
        var m = tensor(s1, ScalarType.Float64).matmul(tensor(s2, ScalarType.Float64));
        double trM = m.trace().item<double>(), detM = linalg.det(m).item<double>();
        double expected = 3.0 + 3.5 - 2 * Math.Sqrt(trM + 2 * Math.Sqrt(detM));
        Approx.Equal(expected, FrechetDistance.Compute(Stats(new double[2], s1), Stats(new double[2], s2)), 1e-12);
    }

    [Fact]
    public void A_set_compared_with_itself_is_zero()
    {
        var features = randn(new long[] { 500, 32 }, generator: new Generator(1));
        var s = GaussianStatistics.FromFeatures(features);
        Assert.True(Math.Abs(FrechetDistance.Compute(s, s)) < 1e-9);

        // Fewer images than dimensions, large features: the covariance is rank 31 of 256. A square root of the
        // rounding-level eigenvalues would add ~√(ε·λmax) per null direction; the range-restricted roots do not.
        var wide = randn(new long[] { 32, 256 }, generator: new Generator(2)) * 1000;
        var w = GaussianStatistics.FromFeatures(wide);
        double trace = w.Sigma.trace().item<double>();
        Assert.True(Math.Abs(FrechetDistance.Compute(w, w)) < 1e-10 * trace, $"FID(X,X) = {FrechetDistance.Compute(w, w)} for trace {trace}");
    }

    [SkippableFact]
    public void Matches_pytorch_fid_and_the_adm_evaluator_on_the_reference_sets()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/metrics.npz"));
        var s = new[] { "A", "B", "C", "D" }.ToDictionary(k => k, k => GaussianStatistics.FromFeatures(o[k]));
        Approx.Equal(o["fid_AB"].item<double>(), FrechetDistance.Compute(s["A"], s["B"]), 1e-9);
        // C and D (40 rows, 64 dimensions) have rank-39 covariances. There tr((Σ_CΣ_D)^½) also equals the nuclear norm of
        // C̃D̃ᵀ/39 (C̃, D̃ centred rows): no covariance square root at all, so it is the exact value to compare with.
        var c = o["C"] - o["C"].mean(new long[] { 0 });
        var d = o["D"] - o["D"].mean(new long[] { 0 });
        var diff = o["C"].mean(new long[] { 0 }) - o["D"].mean(new long[] { 0 });
        double exact = (diff.dot(diff) + s["C"].Sigma.trace() + s["D"].Sigma.trace()).item<double>()
                       - 2 * linalg.svdvals(c.matmul(d.t())).sum().item<double>() / 39;
        double ours = FrechetDistance.Compute(s["C"], s["D"]);
        Approx.Equal(exact, ours, 1e-12);
        // scipy's sqrtm (pytorch-fid, ADM) carries its own error on this singular product; the oracle README expects ~1e-7.
        Assert.InRange(ours - o["fid_CD"].item<double>(), -2e-6, 2e-6);
        Assert.InRange(FrechetDistance.Compute(s["A"], s["A"]), -1e-9, 1e-9);
    }

    private static double[,] Diag(double[] v)
    {
        var m = new double[v.Length, v.Length];
        for (int i = 0; i < v.Length; i++) m[i, i] = v[i];
        return m;
    }

    private static Tensor RandomRotation(int n, int seed)
    {
        var (q, _) = linalg.qr(randn(new long[] { n, n }, dtype: ScalarType.Float64, generator: new Generator((ulong)seed)));
        return q;
    }

    [Fact]
    public void A_reference_compared_with_many_sets_gives_each_the_value_fresh_statistics_give()
    {
        var g = new Generator(5);
        var reference = GaussianStatistics.FromFeatures(randn(new long[] { 200, 40 }, generator: g));
        var sets = Enumerable.Range(0, 3).Select(i => randn(new long[] { 60, 40 }, generator: g) * (1 + 0.2 * i)).ToList();
        // The reference's eigen-decomposition is kept after the first comparison; every later one must be unchanged by it.
        var reused = sets.Select(x => FrechetDistance.Compute(GaussianStatistics.FromFeatures(x), reference)).ToList();
        for (int i = 0; i < sets.Count; i++)
        {
            var fresh = new GaussianStatistics(reference.Mu.clone(), reference.Sigma.clone(), reference.Count);
            Assert.Equal(FrechetDistance.Compute(GaussianStatistics.FromFeatures(sets[i]), fresh), reused[i]);
            Assert.Equal(FrechetDistance.To(fresh)(GaussianStatistics.FromFeatures(sets[i])), reused[i], 9);
        }
        Assert.True(reused.Distinct().Count() == 3 && reused.All(d => d > 0));
    }
}
