using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// KID (Bińkowski et al. 2018): unbiased MMD² with the polynomial kernel k(x, y) = (xᵀy/d + 1)³, averaged over random
/// subsets as torch-fidelity does (100 subsets of min(1000, n) rows, without replacement). Subsets come from our own
/// seeded generator, so values match torch-fidelity's in distribution, not digit for digit.
/// </summary>
public static class KernelInceptionDistance
{
    public static (double Mean, double Std) Compute(Tensor x, Tensor y, int subsets = 100, int subsetSize = 1000, long seed = 0)
    {
        if (x.shape[1] != y.shape[1]) throw new QdmInputException($"KID needs features of one network ({x.shape[1]} vs {y.shape[1]} dimensions).");
        int m = (int)Math.Min(subsetSize, Math.Min(x.shape[0], y.shape[0]));
        if (m < 2) throw new QdmInputException("KID needs at least 2 images in each set.");
        var generator = new Generator((ulong)seed);
        var values = new double[subsets];
        for (int s = 0; s < subsets; s++)
        {
            using var scope = NewDisposeScope();
            var xs = x.index_select(0, randperm(x.shape[0], generator: generator)[..m]).to(ScalarType.Float64);
            var ys = y.index_select(0, randperm(y.shape[0], generator: generator)[..m]).to(ScalarType.Float64);
            values[s] = UnbiasedMmd2(xs, ys);
        }
        double mean = values.Average();
        return (mean, Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average()));
    }

    /// <summary>MMD²_u = Σ_{i≠j} k(x_i,x_j)/(m(m−1)) + Σ_{i≠j} k(y_i,y_j)/(m(m−1)) − 2 Σ_{i,j} k(x_i,y_j)/m².</summary>
    public static double UnbiasedMmd2(Tensor xs, Tensor ys)
    {
        long m = xs.shape[0], d = xs.shape[1];
        Tensor Kernel(Tensor a, Tensor b) => (a.matmul(b.t()) / d + 1).pow(3);
        var kxx = Kernel(xs, xs);
        var kyy = Kernel(ys, ys);
        var kxy = Kernel(xs, ys);
        double offX = (kxx.sum() - kxx.trace()).item<double>(), offY = (kyy.sum() - kyy.trace()).item<double>();
        return (offX + offY) / (m * (m - 1)) - 2 * kxy.sum().item<double>() / (m * m);
    }
}
