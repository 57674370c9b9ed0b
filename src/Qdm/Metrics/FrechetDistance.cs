using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Fréchet distance between Gaussians (Dowson &amp; Landau; Heusel et al. 2017, eq. 6):
/// d² = ‖μ₁ − μ₂‖² + tr(Σ₁) + tr(Σ₂) − 2·tr((Σ₁Σ₂)^½).
/// tr((Σ₁Σ₂)^½) = tr((Σ₁^½ Σ₂ Σ₁^½)^½): two symmetric eigen-decompositions instead of a general sqrtm.
/// </summary>
public static class FrechetDistance
{
    public static double Compute(GaussianStatistics a, GaussianStatistics b)
    {
        if (a.Dimension != b.Dimension)
            throw new QdmInputException($"cannot compare statistics of {a.Dimension} and {b.Dimension} dimensions (different feature networks?).");
        double d = Compute(a.Mu, a.Sigma, b.Mu, b.Sigma, 0);
        // pytorch-fid / ADM fallback for near-singular products: offset both covariances by eps·I.
        return double.IsFinite(d) ? d : Compute(a.Mu, a.Sigma, b.Mu, b.Sigma, 1e-6);
    }

    private static double Compute(Tensor mu1, Tensor sigma1, Tensor mu2, Tensor sigma2, double eps)
    {
        using var scope = NewDisposeScope();
        var s1 = sigma1.to(ScalarType.Float64);
        var s2 = sigma2.to(ScalarType.Float64);
        if (eps > 0)
        {
            var offset = eye(s1.shape[0], dtype: ScalarType.Float64) * eps;
            s1 = s1 + offset;
            s2 = s2 + offset;
        }
        var diff = mu1.to(ScalarType.Float64) - mu2.to(ScalarType.Float64);
        var traceSqrt = TraceSqrtProduct(s1, s2);
        var d = diff.dot(diff) + s1.trace() + s2.trace() - 2 * traceSqrt;
        return d.item<double>();
    }

    /// <summary>tr((Σ₁Σ₂)^½) via the symmetric PSD matrix Σ₁^½ Σ₂ Σ₁^½ (same eigenvalues as Σ₁Σ₂).</summary>
    public static Tensor TraceSqrtProduct(Tensor s1, Tensor s2)
    {
        var (values1, vectors1) = linalg.eigh(Symmetrise(s1));
        var root1 = vectors1.matmul(diag(values1.clamp_min(0).sqrt())).matmul(vectors1.t());
        var product = Symmetrise(root1.matmul(s2).matmul(root1));
        return linalg.eigvalsh(product).clamp_min(0).sqrt().sum();
    }

    private static Tensor Symmetrise(Tensor m) => (m + m.t()) / 2;
}
