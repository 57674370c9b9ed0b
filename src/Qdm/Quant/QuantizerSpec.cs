namespace Qdm.Quant;

/// <summary>How a quantizer's clipping range is first set.</summary>
public enum RangeMethod
{
    /// <summary>The observed minimum and maximum.</summary>
    MinMax,
    /// <summary>Low and high percentiles of the observed values (Percentile sets which).</summary>
    Percentile,
    /// <summary>BRECQ/QDrop: shrink the min-max range in 1 % steps and keep the one with the smallest Lp error (p = 2.4).</summary>
    MseSearch,
}

/// <summary>Where a quantizer's 2^b levels lie.</summary>
public enum QuantGrid
{
    /// <summary>Evenly spaced: the affine grid Δ·(q − z).</summary>
    Uniform,
    /// <summary>Powers of 2 below the range's top s: s·2^(−q), q = 0..2^b − 1, and 0 (FQ-ViT's Log2 quantizer for softmax
    /// probabilities). Non-negative tensors only.</summary>
    Log2,
    /// <summary>Powers of √2 below the top: s·2^(−q/2) (RepQ-ViT's log√2 quantizer), half the relative step of Log2.</summary>
    LogSqrt2,
}

/// <summary>A quantizer's settings: a uniform affine grid unless Grid says otherwise. 16 bits or more means pass-through.</summary>
public sealed record QuantizerSpec
{
    public int Bits { get; init; } = 8;
    /// <summary>Symmetric: zero point 0 and the narrow signed grid [−(2^(b−1)−1), 2^(b−1)−1] (what int8 kernels want for weights).
    /// Asymmetric: the unsigned grid [0, 2^b − 1] with a zero point.</summary>
    public bool Symmetric { get; init; }
    /// <summary>One scale per slice along axis 0 (output channels of a weight) instead of one for the tensor.</summary>
    public bool PerChannel { get; init; }
    public RangeMethod Range { get; init; } = RangeMethod.MinMax;
    /// <summary>For RangeMethod.Percentile: the upper percentile (the lower one is 100 − this).</summary>
    public double Percentile { get; init; } = 99.99;
    /// <summary>For RangeMethod.MseSearch: the p of the Lp error (2.4 in BRECQ, QDrop, PTQ4DM).</summary>
    public double LpNorm { get; init; } = 2.4;
    /// <summary>For RangeMethod.MseSearch: how many shrink steps of 1 % are tried.</summary>
    public int SearchSteps { get; init; } = 100;
    /// <summary>LSQ (Esser et al. 2020): the step size is a trainable parameter (activations during reconstruction).</summary>
    public bool LearnableStep { get; init; }
    /// <summary>Uniform, or a logarithmic grid for non-negative activations (the softmax probabilities).</summary>
    public QuantGrid Grid { get; init; } = QuantGrid.Uniform;
    /// <summary>After rounding, divide every slice along the last axis by its sum, so that softmax rows sum to 1 again:
    /// rounding moves a row's sum by a few per cent (a uniform grid drops the small probabilities, a log grid rounds up
    /// on average), and A·V inherits that as a gain. Activations only.</summary>
    public bool RowNormalized { get; init; }

    /// <summary>Levels per octave of a logarithmic grid: 1 for powers of 2, 2 for powers of √2.</summary>
    public int LevelsPerOctave => Grid == QuantGrid.LogSqrt2 ? 2 : 1;

    public bool PassThrough => Bits >= 16;
    public long QMin => Symmetric ? -((1L << (Bits - 1)) - 1) : 0;
    public long QMax => Symmetric ? (1L << (Bits - 1)) - 1 : (1L << Bits) - 1;

    public QuantizerSpec Validated()
    {
        if (!PassThrough && (Bits < 2 || Bits > 8))
            throw new ArgumentException($"quantizers support 2 to 8 bits (or 16 = pass-through), got {Bits}.");
        if (Grid != QuantGrid.Uniform && (Symmetric || PerChannel || Range != RangeMethod.MinMax))
            throw new ArgumentException($"a {Grid} grid is per tensor, unsigned and set from the maximum (min-max range), got {Describe()}.");
        if (RowNormalized && PerChannel)
            throw new ArgumentException($"row normalization is for activations (softmax rows), not per-channel weights: got {Describe()}.");
        if (Range == RangeMethod.Percentile && !(Percentile > 50 && Percentile <= 100))
            throw new ArgumentException($"the percentile must be in (50, 100], got {Percentile}.");
        return this;
    }

    public string Describe() => PassThrough ? "fp (pass-through)" :
        $"{(Symmetric ? "s" : "u")}{Bits}{(Grid != QuantGrid.Uniform ? " " + Grid.ToString().ToLowerInvariant() : "")}{(PerChannel ? " per-channel" : "")}{(RowNormalized ? " row-normalized" : "")} {Range.ToString().ToLowerInvariant()}{(LearnableStep ? " lsq" : "")}";
}
