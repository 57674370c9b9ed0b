using Qdm.Quant;

namespace Qdm.Placement;

/// <summary>Where quantizers go.</summary>
public enum PlacementKind
{
    /// <summary>PTQ4DM's code: every Conv2d and Linear gets a weight quantizer and a quantizer on its output; attention
    /// Conv1d projections, attention matmuls and the skip concat stay in full precision.</summary>
    Ptq4dm,
    /// <summary>DI2N's quantization order: every conv/linear (Conv1d included) quantizes the tensor it consumes (post-SiLU
    /// inputs of the time-embedding linears, shortcut, up/down-sample convs), plus the attention matmul operands and the
    /// decoder skip concat with split quantizers.</summary>
    Full,
}

/// <summary>What happens to the first and last convolution.</summary>
public enum EdgeLayers
{
    /// <summary>Same bits as every other layer.</summary>
    Same,
    /// <summary>8-bit weights and activations whatever the model's bits (BRECQ / Q-Diffusion practice).</summary>
    EightBit,
    /// <summary>Left in full precision.</summary>
    FullPrecision,
}

/// <summary>A whole placement: kind, bit widths, quantizer settings and exceptions.</summary>
public sealed record PlacementConfig
{
    public PlacementKind Kind { get; init; } = PlacementKind.Full;
    public int WeightBits { get; init; } = 8;
    public int ActivationBits { get; init; } = 8;
    /// <summary>Bits of the softmax output (attention weights); null = ActivationBits.</summary>
    public int? AttentionBits { get; init; }
    /// <summary>Grid of the softmax output: uniform (the seed's), or logarithmic, which keeps the many small probabilities
    /// that a uniform grid rounds to 0 (and so rescales A·V by a block- and t-dependent factor).</summary>
    public QuantGrid AttentionGrid { get; init; } = QuantGrid.Uniform;
    /// <summary>Rescale each quantized softmax row to sum to 1 (<see cref="QuantizerSpec.RowNormalized"/>).</summary>
    public bool AttentionRowNormalized { get; init; }
    /// <summary>Full placement: decoder shortcuts quantize h and skip separately (Q-Diffusion "split").</summary>
    public bool SplitSkip { get; init; } = true;
    /// <summary>DI2N: separate quantizers for the scale and shift halves of a scale-shift ResBlock's embedding output.</summary>
    public bool SplitTimeEmbedding { get; init; }
    public EdgeLayers EdgeLayers { get; init; } = EdgeLayers.EightBit;
    /// <summary>
    /// Deployment form for integer kernels: every conv/linear also quantizes its output, and biases live on the int32 grid
    /// s_x·s_w (what ONNX Runtime needs to fuse QDQ into QLinearConv / QGemm). The simulation does the same, so the two agree.
    /// </summary>
    public bool IntegerKernels { get; init; }
    /// <summary>Regular expressions over module paths; matching layers and slots are not quantized.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = Array.Empty<string>();
    /// <summary>Weight quantizer template (bits come from WeightBits): symmetric per output channel, MSE search.</summary>
    public QuantizerSpec Weights { get; init; } = new() { Symmetric = true, PerChannel = true, Range = RangeMethod.MseSearch };
    /// <summary>Activation quantizer template (bits from ActivationBits): asymmetric (u8 for int8 kernels) per tensor.</summary>
    public QuantizerSpec Activations { get; init; } = new() { Range = RangeMethod.MinMax };

    public PlacementConfig Validated()
    {
        foreach (var bits in new[] { WeightBits, ActivationBits, AttentionBits ?? ActivationBits })
            if (bits is < 2 or (> 8 and < 16)) throw new ArgumentException($"bit widths must be 2..8 (or 16 = off), got {bits}.");
        if (AttentionGrid != QuantGrid.Uniform && Kind != PlacementKind.Full)
            throw new ArgumentException($"a {AttentionGrid} softmax grid needs the full placement: {Kind} leaves the softmax output in full precision.");
        if (AttentionRowNormalized && Kind != PlacementKind.Full)
            throw new ArgumentException($"softmax row normalization needs the full placement: {Kind} leaves the softmax output in full precision.");
        foreach (var pattern in Exclude) _ = new System.Text.RegularExpressions.Regex(pattern);
        return this;
    }

    public string Describe() =>
        $"{Kind.ToString().ToLowerInvariant()} W{WeightBits}A{ActivationBits}" +
        (AttentionBits is { } a && a != ActivationBits ? $" attn{a}" : "") +
        (AttentionGrid != QuantGrid.Uniform ? $" attn-grid {AttentionGrid.ToString().ToLowerInvariant()}" : "") +
        (AttentionRowNormalized ? " attn-renorm" : "") +
        (Kind == PlacementKind.Full ? $", split skip {(SplitSkip ? "on" : "off")}, split time embedding {(SplitTimeEmbedding ? "on" : "off")}" : "") +
        $", first/last {EdgeLayers}" + (IntegerKernels ? ", integer-kernel form (outputs quantized, int32 bias)" : "") + (Exclude.Count > 0 ? $", excluding {string.Join(" ", Exclude)}" : "");
}
