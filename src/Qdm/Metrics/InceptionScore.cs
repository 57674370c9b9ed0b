using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>Inception Score exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016), softmax and KL in float64.</summary>
public static class InceptionScore
{
    /// <summary>ADM evaluator convention: consecutive chunks of 5,000 images, mean of the chunk scores (one chunk below 5,000).</summary>
    public static double Adm(Tensor logits, int splitSize = 5000)
    {
        using var scope = NewDisposeScope();
        var p = Softmax64(logits);
        var scores = new List<double>();
        for (long start = 0; start < p.shape[0]; start += splitSize)
            scores.Add(ChunkScore(p[TensorIndex.Slice(start, Math.Min(start + splitSize, p.shape[0]))]));
        return scores.Average();
    }

    /// <summary>improved-gan convention: 10 equal consecutive splits; mean and population std of the split scores.</summary>
    public static (double Mean, double Std) ImprovedGan(Tensor logits, int splits = 10)
    {
        using var scope = NewDisposeScope();
        var p = Softmax64(logits);
        long n = p.shape[0];
        var scores = Enumerable.Range(0, splits)
            .Select(i => ChunkScore(p[TensorIndex.Slice(i * n / splits, (i + 1) * n / splits)])).ToArray();
        double mean = scores.Average();
        return (mean, Math.Sqrt(scores.Select(s => (s - mean) * (s - mean)).Average()));
    }

    private static Tensor Softmax64(Tensor logits) => nn.functional.softmax(logits.to(ScalarType.Float64), 1);

    private static double ChunkScore(Tensor p)
    {
        var marginal = p.mean(new long[] { 0 }, keepdim: true);
        var kl = (p * (p.log() - marginal.log())).sum(1).mean();
        return Math.Exp(kl.item<double>());
    }
}
