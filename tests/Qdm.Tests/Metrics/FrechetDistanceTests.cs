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
    }

    [SkippableFact]
    public void Matches_pytorch_fid_and_the_adm_evaluator_on_the_reference_sets()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/metrics.npz"));
        var s = new[] { "A", "B", "C", "D" }.ToDictionary(k => k, k => GaussianStatistics.FromFeatures(o[k]));
        Approx.Equal(o["fid_AB"].item<double>(), FrechetDistance.Compute(s["A"], s["B"]), 1e-9);
        // C and D have rank-39 covariances in 64 dimensions (near-singular): the oracle measured 1.2e-7 between sqrtm methods.
        Assert.InRange(FrechetDistance.Compute(s["C"], s["D"]) - o["fid_CD"].item<double>(), -1e-6, 1e-6);
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
}
