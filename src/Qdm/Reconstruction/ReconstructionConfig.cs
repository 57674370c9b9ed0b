namespace Qdm.Reconstruction;

public enum ReconstructionGranularity
{
    /// <summary>BRECQ: one unit per ResBlock, attention block, down/up-sample, and each remaining layer (time embedding, first/last conv).</summary>
    Block,
    /// <summary>AdaRound: one unit per quantized layer.</summary>
    Layer,
}

/// <summary>Block reconstruction settings. Defaults are the published ones (BRECQ / QDrop / Q-Diffusion); CPU runs use fewer iterations.</summary>
public sealed record ReconstructionConfig
{
    public ReconstructionGranularity Granularity { get; init; } = ReconstructionGranularity.Block;
    /// <summary>Optimisation steps per unit (Q-Diffusion / BRECQ: 20,000; PTQ4DM's scripts: 100).</summary>
    public int Iterations { get; init; } = 20000;
    public int BatchSize { get; init; } = 32;
    /// <summary>Adam learning rate of the AdaRound variables (BRECQ: 1e-3).</summary>
    public double WeightLearningRate { get; init; } = 1e-3;
    /// <summary>LSQ: learn activation step sizes at this rate (Q-Diffusion: 4e-4); null leaves the ranges as calibrated.</summary>
    public double? ActivationLearningRate { get; init; }
    /// <summary>Weight of the rounding regulariser (BRECQ / QDrop / PTQ4DM: 0.01).</summary>
    public double RoundingWeight { get; init; } = 0.01;
    /// <summary>β of the regulariser anneals from BetaStart to BetaEnd after the warm-up share of the iterations.</summary>
    public double BetaStart { get; init; } = 20;
    public double BetaEnd { get; init; } = 2;
    public double WarmUp { get; init; } = 0.2;
    /// <summary>QDrop: probability of keeping an activation in full precision during reconstruction (0 = BRECQ; QDrop/PTQ4DM: 0.5).</summary>
    public double DropProbability { get; init; }
    /// <summary>In-memory budget for cached unit inputs/outputs; beyond it, cached batches are written to disk.</summary>
    public long MaxCacheBytes { get; init; } = 2L << 30;
    public long Seed { get; init; }

    public ReconstructionConfig Validated()
    {
        if (Iterations < 0) throw new QdmInputException($"reconstruction iterations must be ≥ 0, got {Iterations}.");
        if (BatchSize < 1) throw new QdmInputException($"reconstruction batch must be positive, got {BatchSize}.");
        if (DropProbability is < 0 or >= 1) throw new QdmInputException($"QDrop probability must be in [0, 1), got {DropProbability}.");
        return this;
    }

    /// <summary>β after `step` of `total` iterations (BRECQ's LinearTempDecay).</summary>
    public double Beta(int step, int total)
    {
        double warm = WarmUp * total;
        if (step < warm) return BetaStart;
        double ratio = (step - warm) / Math.Max(1, total - warm);
        return BetaEnd + (BetaStart - BetaEnd) * Math.Max(0, 1 - ratio);
    }

    public string Describe() => Iterations == 0 ? "none (round to nearest)" :
        $"{Granularity.ToString().ToLowerInvariant()}-wise AdaRound, {Iterations} iterations × batch {BatchSize}" +
        (DropProbability > 0 ? $", QDrop p = {DropProbability}" : "") + (ActivationLearningRate is { } lr ? $", LSQ lr {lr:G2}" : "");
}
