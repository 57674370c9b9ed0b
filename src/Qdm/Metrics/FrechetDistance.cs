using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Fréchet distance between Gaussians (Dowson &amp; Landau; Heusel et al. 2017, eq. 6):
/// d² = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^½).
/// tr((Σ₁Σ₂)^½) is the nuclear norm of Σ₁^½Σ₂^½ (its singular values are the square roots of the eigenvalues of
/// Σ₁Σ₂). Both roots come from symmetric eigen-decompositions restricted to their numerical ranges, and the singular
/// values of D₁^½·V₁ᵀV₂·D₂^½ carry only absolute rounding error: no square root of a rounding-level eigenvalue is ever
/// taken, which keeps FID(X, X) ≈ 0 even for rank-deficient covariances (fewer images than dimensions).
/// </summary>
public static class FrechetDistance
{
    public static double Compute(GaussianStatistics a, GaussianStatistics b)
    {
        if (a.Dimension != b.Dimension)
            throw new QdmInputException($"cannot compare statistics of {a.Dimension} and {b.Dimension} dimensions (different feature networks?).");
        double d = Distance(a.Mu, a.Sigma, a.RangeRoot, b.Mu, b.Sigma, b.RangeRoot);   // each set's root is cached
        // pytorch-fid / ADM fallback for near-singular products: offset both covariances by eps·I.
        return double.IsFinite(d) ? d : Compute(a.Mu, a.Sigma, b.Mu, b.Sigma, 1e-6);
    }

    /// <summary>
    /// Distances of many sample sets to one reference (e.g. bootstrap replicates): the reference's eigen-decomposition
    /// is done once. Same value as Compute(sample, reference).
    /// </summary>
    public static Func<GaussianStatistics, double> To(GaussianStatistics reference)
    {
        var sigma = reference.Sigma.to(ScalarType.Float64);
        var root = reference.RangeRoot;
        var mu = reference.Mu.to(ScalarType.Float64);
        double trace = sigma.trace().item<double>();
        return sample =>
        {
            if (sample.Dimension != reference.Dimension)
                throw new QdmInputException($"cannot compare statistics of {sample.Dimension} and {reference.Dimension} dimensions (different feature networks?).");
            using var scope = NewDisposeScope();
            var s = sample.Sigma.to(ScalarType.Float64);
            var diff = sample.Mu.to(ScalarType.Float64) - mu;
            var traceSqrt = linalg.svdvals(RangeRoot(s).t().matmul(root)).sum();   // not cached: replicates are thrown away
            double d = (diff.dot(diff) + s.trace() - 2 * traceSqrt).item<double>() + trace;
            return double.IsFinite(d) ? d : Compute(sample, reference);
        };
    }

    private static double Compute(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2, double eps)
    {
        using var scope = NewDisposeScope();
        var offset = eye(sigma1.shape[0], dtype: ScalarType.Float64) * eps;
        var s1 = sigma1.to(ScalarType.Float64) + offset;
        var s2 = sigma2.to(ScalarType.Float64) + offset;
        return Distance(mu1, s1, RangeRoot(s1), mu2, s2, RangeRoot(s2));
    }

    /// <summary>
    /// d² from the means, covariances and range roots R = V·D^½: tr((Σ₁Σ₂)^½) = ‖Σ₁^½Σ₂^½‖_* (nuclear norm), and
    /// Σ₁^½Σ₂^½ shares its singular values with R₁ᵀR₂ ([r₁, r₂]).
    /// </summary>
    private static double Distance(Tensor mu1, Tensor sigma1, Tensor root1, Tensor mu2, Tensor sigma2, Tensor root2)
    {
        using var scope = NewDisposeScope();
        var diff = mu1.to(ScalarType.Float64) - mu2.to(ScalarType.Float64);
        var traceSqrt = linalg.svdvals(root1.t().matmul(root2)).sum();
        var d = diff.dot(diff) + sigma1.to(ScalarType.Float64).trace() + sigma2.to(ScalarType.Float64).trace() - 2 * traceSqrt;
        return d.item<double>();
    }

    /// <summary>V·diag(√λ) over the eigenvalues above numpy's matrix_rank tolerance (λ_max·d·ε).</summary>
    internal static Tensor RangeRoot(Tensor sigma)
    {
        var (values, vectors) = linalg.eigh(Symmetrise(sigma));
        double tolerance = values.max().item<double>() * sigma.shape[0] * 2.220446049250313e-16;
        var keep = (values > tolerance).nonzero().flatten();
        return vectors.index_select(1, keep) * values.index_select(0, keep).sqrt();
    }

    private static Tensor Symmetrise(Tensor m) => (m + m.t()) / 2;
}
