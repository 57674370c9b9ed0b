namespace Qdm.Export;

/// <summary>How fake quantization becomes ONNX QuantizeLinear / DequantizeLinear pairs.</summary>
public sealed record QdqOptions
{
    /// <summary>Bias as int32 with scale s_x·s_w (what ONNX Runtime needs to fuse QLinearConv); rounds the bias to that grid.</summary>
    public bool IntegerBias { get; init; }
}
