using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>Inception Score exp(E_x KL(p(y|x) ‖ p(y))) (Salimans et al. 2016), softmax and KL in float64.</summary>
public static class InceptionScore
{
    /// <summary>ADM evaluator convention: consecutive chunks of 5,000 images, mean of the chunk scores (one chunk below 5,000).</summary>
    public static double Adm(Tensor logits, int splitSize = 5000)
    {
        using var scope = NewDisposeScope();
        var logP = LogSoftmax64(logits);
        var scores = new List<double>();
        for (long start = 0; start < logP.shape[0]; start += splitSize)
            scores.Add(ChunkScore(logP[TensorIndex.Slice(start, Math.Min(start + splitSize, logP.shape[0]))]));
        return scores.Average();
    }

    /// <summary>improved-gan convention: 10 equal consecutive splits; mean and population std of the split scores.</summary>
    public static (double Mean, double Std) ImprovedGan(Tensor logits, int splits = 10)
    {
        using var scope = NewDisposeScope();
        var logP = LogSoftmax64(logits);
        long n = logP.shape[0];
        var scores = Enumerable.Range(0, splits)
            .Select(i => ChunkScore(logP[TensorIndex.Slice(i * n / splits, (i + 1) * n / splits)])).ToArray();
        double mean = scores.Average();
        return (mean, Math.Sqrt(scores.Select(s => (s - mean) * (s - mean)).Average()));
    }

    /// <summary>log p(y|x) in float64; logs come from log_softmax so that a probability that underflows to 0 adds 0, not NaN.</summary>
    private static Tensor LogSoftmax64(Tensor logits) => nn.functional.log_softmax(logits.to(ScalarType.Float64), 1);

    private static double ChunkScore(Tensor logP)
    {
        var logMarginal = logP.logsumexp(0, keepdim: true) - Math.Log(logP.shape[0]);   // log p(y) = log mean_x p(y|x)
        var kl = (logP.exp() * (logP - logMarginal)).sum(1).mean();
        return Math.Exp(kl.item<double>());
    }
}
