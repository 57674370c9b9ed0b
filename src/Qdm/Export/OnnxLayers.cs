using Qdm.Nn;
using Qdm.Quant;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Export;

/// <summary>ONNX nodes for the layers the U-Nets are made of (FP and fake-quantized as QDQ).</summary>
internal sealed class OnnxLayers(OnnxGraph g, QdqOptions? qdq)
{
    public OnnxGraph Graph => g;

    /// <summary>The children of a module by name (the U-Nets look them up the same way).</summary>
    public static Dictionary<string, Module> Children(Module m) => m.named_children().ToDictionary(c => c.name, c => c.module);

    /// <param name="pads">Overrides a convolution's padding (ONNX order: begins, then ends), e.g. DDPM's (0, 0, 1, 1) downsampling pad.</param>
    public string Apply(Module m, string x, long[]? pads = null) => m switch
    {
        QuantLayer q => Qdq.Layer(this, q, x, qdq ?? throw new InvalidOperationException("a quantized model needs QDQ export options"), pads),
        Conv2d c => Conv(c, c.weight!, c.bias, x, pads),
        Conv1d c => Conv(c, c.weight!, c.bias, x, pads),
        Linear l => Gemm(l.weight!, l.bias, x),
        GroupNorm n => GroupNorm(n, x),
        Slot => x,
        UniformQuantizer q => q.Enabled && !q.Spec.PassThrough ? Qdq.Activation(this, q, x) : x,
        SplitQuantizer s => SplitHalves(x, half => Apply(s.First, half), half => Apply(s.Second, half)),
        _ => throw new NotSupportedException($"ONNX export does not know {m.GetType().Name}."),
    };

    public string Conv(Convolution c, Tensor weight, Tensor? bias, string x, long[]? pads = null)
    {
        var inputs = new List<string> { x, g.Initializer("w", weight) };
        if (bias is not null) inputs.Add(g.Initializer("b", bias));
        return g.Node("Conv", inputs.ToArray(), ConvAttributes(c, pads));
    }

    public static Dictionary<string, object> ConvAttributes(Convolution c, long[]? padsOverride = null)
    {
        var pads = padsOverride ?? c.padding!.Concat(c.padding!).ToArray();   // [begin per axis..., end per axis...]
        return new()
        {
            ["kernel_shape"] = c.kernel_size, ["strides"] = c.stride, ["pads"] = pads,
            ["dilations"] = c.dilation!, ["group"] = c.groups,
        };
    }

    public string Gemm(Tensor weight, Tensor? bias, string x)
    {
        var inputs = new List<string> { x, g.Initializer("w", weight) };
        if (bias is not null) inputs.Add(g.Initializer("b", bias));
        return g.Node("Gemm", inputs.ToArray(), new() { ["transB"] = 1L });
    }

    /// <summary>GroupNorm as torch.onnx exports it: reshape to [N, G, −1], InstanceNormalization, reshape back, affine.</summary>
    public string GroupNorm(GroupNorm n, string x)
    {
        long groups = n.num_groups, channels = n.weight!.shape[0];
        var grouped = g.Node("Reshape", new[] { x, g.Ints(0, groups, -1) });
        var normed = g.Node("InstanceNormalization", new[] { grouped, g.Initializer("ones", ones(groups)), g.Initializer("zeros", zeros(groups)) },
            new() { ["epsilon"] = n.eps });
        var back = g.Node("Reshape", new[] { normed, g.Node("Shape", new[] { x }) });
        var gamma = g.Initializer("gamma", n.weight!.detach().reshape(channels, 1, 1));
        var beta = g.Initializer("beta", n.bias!.detach().reshape(channels, 1, 1));
        return g.Node("Add", new[] { g.Node("Mul", new[] { back, gamma }), beta });
    }

    /// <summary>GroupNorm on [N, C, T] (attention in improved-diffusion): affine parameters shaped [C, 1].</summary>
    public string GroupNorm1d(GroupNorm n, string x)
    {
        long groups = n.num_groups, channels = n.weight!.shape[0];
        var grouped = g.Node("Reshape", new[] { x, g.Ints(0, groups, -1) });
        var normed = g.Node("InstanceNormalization", new[] { grouped, g.Initializer("ones", ones(groups)), g.Initializer("zeros", zeros(groups)) },
            new() { ["epsilon"] = n.eps });
        var back = g.Node("Reshape", new[] { normed, g.Node("Shape", new[] { x }) });
        return g.Node("Add", new[] { g.Node("Mul", new[] { back, g.Initializer("gamma", n.weight!.detach().reshape(channels, 1)) }),
            g.Initializer("beta", n.bias!.detach().reshape(channels, 1)) });
    }

    /// <summary>SiLU as x·σ(x) (ONNX Runtime fuses it).</summary>
    public string Silu(string x) => g.Node("Mul", new[] { x, g.Node("Sigmoid", new[] { x }) });

    /// <summary>Nearest ×2 upsampling as PyTorch's F.interpolate(mode="nearest"): asymmetric coordinates, floor.</summary>
    public string Upsample2x(string x) => g.Node("Resize", new[] { x, "", g.Initializer("scales", tensor(new[] { 1f, 1f, 2f, 2f })) },
        new() { ["mode"] = "nearest", ["coordinate_transformation_mode"] = "asymmetric", ["nearest_mode"] = "floor" });

    public string Add(string a, string b) => g.Node("Add", new[] { a, b });

    /// <summary>[N, C] → [N, C, 1, 1].</summary>
    public string Spatial(string x) => g.Node("Unsqueeze", new[] { x, g.Ints(2, 3) });

    public string SplitHalves(string x, Func<string, string> first, Func<string, string> second)
    {
        var halves = g.NodeMulti("Split", new[] { x }, 2, new() { ["axis"] = 1L });
        return g.Node("Concat", new[] { first(halves[0]), second(halves[1]) }, new() { ["axis"] = 1L });
    }
}
