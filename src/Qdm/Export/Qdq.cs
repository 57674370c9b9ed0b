using Qdm.Quant;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Qdm.Export;

/// <summary>
/// A fake-quantized tensor as QuantizeLinear → DequantizeLinear with the calibrated step and zero point, and a quantized
/// layer's weights as integers (AdaRound decisions applied) dequantized per output channel.
/// </summary>
internal static class Qdq
{
    public static string Activation(OnnxLayers layers, UniformQuantizer q, string x)
    {
        var y = Rounded(layers, q, x);
        return q.Spec.RowNormalized ? NormalizeRows(layers.Graph, y) : y;
    }

    /// <summary>FakeQuant.NormalizeRows: y / max(Σ_last y, 1e-30).</summary>
    private static string NormalizeRows(OnnxGraph g, string y)
    {
        var sum = g.Node("ReduceSum", new[] { y, g.Ints(-1) }, new() { ["keepdims"] = 1L });
        return g.Node("Div", new[] { y, g.Node("Max", new[] { sum, g.Float(1e-30f) }) });
    }

    private static string Rounded(OnnxLayers layers, UniformQuantizer q, string x)
    {
        var g = layers.Graph;
        if (q.Spec.PerChannel) throw new NotSupportedException($"{q.Label}: per-channel activation quantizers have no QDQ export.");
        if (q.Spec.Grid != QuantGrid.Uniform) return Logarithmic(layers, q, x);
        float delta = q.Delta.item<float>(), zero = q.ZeroPoint.item<float>();
        bool unsigned = !q.Spec.Symmetric;
        // A grid narrower than the storage type (b < 8, or the narrow signed grid) is enforced by a clip first.
        long storageMin = unsigned ? 0 : -128, storageMax = unsigned ? 255 : 127;
        var input = x;
        if (q.Spec.QMin != storageMin || q.Spec.QMax != storageMax)
            input = g.Node("Clip", new[] { x, g.Float((q.Spec.QMin - zero) * delta), g.Float((q.Spec.QMax - zero) * delta) });
        var scale = g.Float(delta);
        var zp = g.Initializer("zp", unsigned ? tensor((byte)zero) : tensor((sbyte)zero));
        var quantized = g.Node("QuantizeLinear", new[] { input, scale, zp });
        return g.Node("DequantizeLinear", new[] { quantized, scale, zp });
    }

    /// <summary>FakeQuant.ApplyLog as float ops: no ONNX operator holds a logarithmic grid, and ORT runs the attention
    /// matmuls it feeds in float anyway.</summary>
    private static string Logarithmic(OnnxLayers layers, UniformQuantizer q, string x)
    {
        var g = layers.Graph;
        float top = q.Delta.item<float>(), k = q.Spec.LevelsPerOctave, last = q.Spec.QMax;
        var ratio = g.Node("Div", new[] { g.Node("Max", new[] { x, g.Float(1e-30f) }), g.Float(top) });
        var exponent = g.Node("Round", new[] { g.Node("Mul", new[] { g.Node("Log", new[] { ratio }), g.Float(-k / MathF.Log(2)) }) });
        var below = g.Node("Greater", new[] { exponent, g.Float(last) });
        var clipped = g.Node("Clip", new[] { exponent, g.Float(0), g.Float(last) });
        var value = g.Node("Mul", new[] { g.Node("Pow", new[] { g.Float(2), g.Node("Div", new[] { g.Node("Neg", new[] { clipped }), g.Float(k) }) }), g.Float(top) });
        return g.Node("Where", new[] { below, g.Float(0), value });
    }

    public static string Layer(OnnxLayers layers, QuantLayer layer, string x, QdqOptions options, long[]? pads)
    {
        var g = layers.Graph;
        var input = layer.InputQuantizers.Length switch
        {
            0 => x,
            1 => Active(layers, layer.InputQuantizers[0], x),
            _ => Split(layers, x, layer.SplitAt!.Value, layer.InputQuantizers),
        };
        var (weight, bias) = WeightAndBias(layers, layer, options);
        var inputs = bias is null ? new[] { input, weight } : new[] { input, weight, bias };
        var y = layer.Original switch
        {
            Convolution c => g.Node("Conv", inputs, OnnxLayers.ConvAttributes(c, pads)),
            _ => g.Node("Gemm", inputs, new() { ["transB"] = 1L }),
        };
        return layer.OutputQuantizer is { } o ? Active(layers, o, y) : y;
    }

    private static string Active(OnnxLayers layers, UniformQuantizer q, string x) =>
        q.Enabled && !q.Spec.PassThrough ? Activation(layers, q, x) : x;

    private static string Split(OnnxLayers layers, string x, long split, UniformQuantizer[] quantizers)
    {
        var g = layers.Graph;
        var sizes = g.Node("Concat", new[] { g.Ints(split), g.Node("Sub", new[] { g.Node("Gather", new[] { g.Node("Shape", new[] { x }), g.Ints(1) }), g.Ints(split) }) },
            new() { ["axis"] = 0L });
        var halves = g.NodeMulti("Split", new[] { x, sizes }, 2, new() { ["axis"] = 1L });
        return g.Node("Concat", new[] { Active(layers, quantizers[0], halves[0]), Active(layers, quantizers[1], halves[1]) }, new() { ["axis"] = 1L });
    }

    /// <summary>int8 weights + per-channel DequantizeLinear where one symmetric quantizer covers the weight; otherwise
    /// (split columns, asymmetric grids, disabled) the fake-quantized weight itself as float.</summary>
    private static (string Weight, string? Bias) WeightAndBias(OnnxLayers layers, QuantLayer layer, QdqOptions options)
    {
        var g = layers.Graph;
        using var _ = no_grad();
        var weight = layer.WeightQuantizers.Length == 1 ? layer.WeightQuantizers[0] : null;
        var bias = layer.Bias;
        bool integer = weight is { Enabled: true, IsCalibrated: true, Spec: { Symmetric: true, PerChannel: true, PassThrough: false } };
        if (!integer)
        {
            var fake = layer.QuantizedWeight();
            return (g.Initializer("w", fake), bias is null ? null : g.Initializer("b", bias));
        }
        var integers = weight!.Integers(layer.Weight).to(ScalarType.Int8);
        var scales = weight.Delta.detach();
        var w = g.Node("DequantizeLinear", new[] { g.Initializer("w_int8", integers), g.Initializer("w_scale", scales),
            g.Initializer("w_zp", zeros(scales.shape[0], dtype: ScalarType.Int8)) }, new() { ["axis"] = 0L });
        if (bias is null) return (w, null);
        var input = layer.InputQuantizers.Length == 1 ? layer.InputQuantizers[0] : null;
        if (!(options.IntegerBias || layer.IntegerBias) || input is not { Enabled: true, IsCalibrated: true, Spec.PassThrough: false })
            return (w, g.Initializer("b", bias));
        var biasScale = scales * input.Delta.detach();
        var biasInt = (bias.detach() / biasScale).round().to(ScalarType.Int32);
        var b = g.Node("DequantizeLinear", new[] { g.Initializer("b_int32", biasInt), g.Initializer("b_scale", biasScale),
            g.Initializer("b_zp", zeros(scales.shape[0], dtype: ScalarType.Int32)) }, new() { ["axis"] = 0L });
        return (w, b);
    }
}
