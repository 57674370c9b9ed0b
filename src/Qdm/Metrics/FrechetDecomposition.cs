using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Where a quantized sample set's Fréchet distance to the data comes from, next to the FP set of the same seeds.
/// d² = ‖μ − μ_r‖² (mean term) + tr(Σ) + tr(Σ_r) − 2·tr((ΣΣ_r)^½) (covariance term; Heusel et al. 2017, eq. 6).
/// With μ = μ_fp + s, s the shift of the feature mean that quantization causes:
/// ‖μ − μ_r‖² = ‖μ_fp − μ_r‖² + ‖s‖² − 2·‖μ_r − μ_fp‖·s_toward, s_toward the component of s along the FP → data
/// direction. So a shift of a given length costs least when it is orthogonal to that direction, and while the FP model
/// is far from the data its direction, not only its size, decides the gap in FD.
/// </summary>
/// <param name="ShiftTowardData">Signed component of s along μ_r − μ_fp (negative: away from the data).</param>
public sealed record FrechetDecomposition(double MeanTerm, double CovarianceTerm, double ShiftLength, double ShiftTowardData)
{
    public static FrechetDecomposition Of(GaussianStatistics set, GaussianStatistics fp, GaussianStatistics reference)
    {
        using var scope = NewDisposeScope();
        double fd = FrechetDistance.Compute(set, reference);
        var mu = set.Mu.to(ScalarType.Float64);
        var shift = mu - fp.Mu.to(ScalarType.Float64);
        var toData = reference.Mu.to(ScalarType.Float64) - fp.Mu.to(ScalarType.Float64);
        double meanTerm = (mu - reference.Mu.to(ScalarType.Float64)).pow(2).sum().item<double>();
        double dataDistance = toData.norm().item<double>();
        double toward = dataDistance == 0 ? 0 : (shift * toData).sum().item<double>() / dataDistance;
        return new FrechetDecomposition(meanTerm, fd - meanTerm, shift.norm().item<double>(), toward);
    }
}
