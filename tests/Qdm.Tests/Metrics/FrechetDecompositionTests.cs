using Qdm.Metrics;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class FrechetDecompositionTests
{
    private static GaussianStatistics Gaussian(double[] mu, double[] variances) =>
        new(tensor(mu, ScalarType.Float64), diag(tensor(variances, ScalarType.Float64)), 1000);

    [Fact]
    public void The_mean_term_and_the_shift_toward_the_data_follow_from_the_means_and_the_rest_is_the_covariance_term()
    {
        var reference = Gaussian(new[] { 3.0, 4.0 }, new[] { 1.0, 1.0 });
        var fp = Gaussian(new[] { 0.0, 0.0 }, new[] { 1.0, 1.0 });
        var quantized = Gaussian(new[] { 1.0, -1.0 }, new[] { 4.0, 1.0 });

        var parts = FrechetDecomposition.Of(quantized, fp, reference);

        // ‖(1,−1) − (3,4)‖² = 4 + 25; covariance term tr(diag(4,1)) + tr(I) − 2·tr(diag(2,1)) = 5 + 2 − 6.
        Assert.Equal(29.0, parts.MeanTerm, 9);
        Assert.Equal(1.0, parts.CovarianceTerm, 6);
        // The shift (1,−1) against the FP → data direction (3,4)/5: length √2, component (3 − 4)/5.
        Assert.Equal(Math.Sqrt(2), parts.ShiftLength, 12);
        Assert.Equal(-0.2, parts.ShiftTowardData, 12);
        // The identity the report leans on: mean term = ‖μ_fp − μ_r‖² + ‖s‖² − 2·‖μ_r − μ_fp‖·s_toward.
        Assert.Equal(25 + 2 - 2 * 5 * parts.ShiftTowardData, parts.MeanTerm, 9);
    }
}
