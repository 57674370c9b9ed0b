using Onnx;
using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Nn;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Export;

/// <summary>
/// Writes a U-Net (FP, or with Qdm's quantizers as QDQ) as an ONNX graph: inputs x [N, C, H, W] and t [N] (the time the
/// network is fed), output [N, out, H, W]. The graph mirrors the models' forward code op for op; the agreement tests
/// against TorchSharp keep the two in step.
/// </summary>
public static class UNetOnnxExporter
{
    public const string InputX = "x", InputT = "t", Output = "out";

    public static ModelProto Export(DiffusionUNet network, QdqOptions? qdq = null, int opset = 17)
    {
        var g = new OnnxGraph();
        var layers = new OnnxLayers(g, qdq ?? new QdqOptions());
        var config = network.Config;
        g.Input(InputX, config.InChannels, config.ImageSize, config.ImageSize);
        g.Input(InputT);
        var result = network switch
        {
            DdpmUNet ddpm => Ddpm(layers, ddpm, (DdpmUNetConfig)config),
            IddpmUNet iddpm => Iddpm(layers, iddpm, (IddpmUNetConfig)config),
            _ => throw new NotSupportedException($"no ONNX export for {network.GetType().Name}"),
        };
        g.Node("Identity", new[] { result }, hint: Output);
        var model = g.Build(opset);
        // Rename the final identity's output to the public output name.
        model.Graph.Node[^1].Output[0] = Output;
        g.Output(Output, config.OutChannels, config.ImageSize, config.ImageSize);
        return model;
    }

    public static void Save(ModelProto model, string path) =>
        IO.AtomicFile.Write(path, stream => Google.Protobuf.MessageExtensions.WriteTo(model, stream));

    /// <summary>[sin, cos] or [cos, sin] of t·freqs, the freqs computed exactly as the model computes them.</summary>
    private static string Sinusoid(OnnxGraph g, Tensor freqs, bool sinFirst)
    {
        var args = g.Node("Mul", new[] { g.Node("Unsqueeze", new[] { InputT, g.Ints(1) }), g.Initializer("freqs", freqs.unsqueeze(0)) });
        var sin = g.Node("Sin", new[] { args });
        var cos = g.Node("Cos", new[] { args });
        return g.Node("Concat", sinFirst ? new[] { sin, cos } : new[] { cos, sin }, new() { ["axis"] = 1L });
    }

    private static Dictionary<string, Module> C(Module m) => OnnxLayers.Children(m);

    private static string Ddpm(OnnxLayers l, DdpmUNet net, DdpmUNetConfig config)
    {
        var g = l.Graph;
        var top = C(net);
        int half = config.Ch / 2;
        var freqs = (arange(half, dtype: ScalarType.Float32) * -(Math.Log(10000) / (half - 1))).exp();
        var dense = C(C(top["temb"])["dense"]);
        var temb = l.Apply(dense["1"], l.Silu(l.Apply(dense["0"], Sinusoid(g, freqs, sinFirst: true))));

        var hs = new List<string> { l.Apply(top["conv_in"], InputX) };
        var down = C(top["down"]);
        for (int level = 0; level < down.Count; level++)
        {
            var parts = C(down[level.ToString()]);
            var blocks = C(parts["block"]);
            var attns = C(parts["attn"]);
            for (int i = 0; i < blocks.Count; i++)
            {
                var h = DdpmResBlock(l, blocks[i.ToString()], hs[^1], temb);
                if (attns.Count > 0) h = DdpmAttention(l, attns[i.ToString()], h);
                hs.Add(h);
            }
            if (parts.TryGetValue("downsample", out var ds)) hs.Add(l.Apply(C(ds)["conv"], hs[^1], pads: new long[] { 0, 0, 1, 1 }));
        }
        var mid = C(top["mid"]);
        var x = DdpmResBlock(l, mid["block_2"], DdpmAttention(l, mid["attn_1"], DdpmResBlock(l, mid["block_1"], hs[^1], temb)), temb);

        var up = C(top["up"]);
        for (int level = up.Count - 1; level >= 0; level--)
        {
            var parts = C(up[level.ToString()]);
            var blocks = C(parts["block"]);
            var attns = C(parts["attn"]);
            for (int i = 0; i < blocks.Count; i++)
            {
                var skip = hs[^1];
                hs.RemoveAt(hs.Count - 1);
                x = DdpmResBlock(l, blocks[i.ToString()], g.Node("Concat", new[] { x, skip }, new() { ["axis"] = 1L }), temb);
                if (attns.Count > 0) x = DdpmAttention(l, attns[i.ToString()], x);
            }
            if (parts.TryGetValue("upsample", out var us)) x = l.Apply(C(us)["conv"], l.Upsample2x(x));
        }
        return l.Apply(top["conv_out"], l.Silu(l.GroupNorm((GroupNorm)top["norm_out"], x)));
    }

    private static string DdpmResBlock(OnnxLayers l, Module block, string x, string temb)
    {
        var c = C(block);
        var h = l.Apply(c["conv1"], l.Silu(l.GroupNorm((GroupNorm)c["norm1"], x)));
        h = l.Add(h, l.Spatial(l.Apply(c["temb_proj"], l.Silu(temb))));
        h = l.Apply(c["conv2"], l.Silu(l.GroupNorm((GroupNorm)c["norm2"], h)));
        var skip = c.TryGetValue("nin_shortcut", out var nin) ? l.Apply(nin, x) : x;
        return l.Add(skip, h);
    }

    private static string DdpmAttention(OnnxLayers l, Module block, string x)
    {
        var g = l.Graph;
        var c = C(block);
        long channels = ((GroupNorm)c["norm"]).weight!.shape[0];
        var h = l.GroupNorm((GroupNorm)c["norm"], x);
        var flat = g.Ints(0, channels, -1);
        var q = g.Node("Transpose", new[] { g.Node("Reshape", new[] { l.Apply(c["q_act"], l.Apply(c["q"], h)), flat }) }, new() { ["perm"] = new long[] { 0, 2, 1 } });
        var k = g.Node("Reshape", new[] { l.Apply(c["k_act"], l.Apply(c["k"], h)), flat });
        var w = g.Node("Mul", new[] { g.Node("MatMul", new[] { q, k }), g.Float((float)Math.Pow(channels, -0.5)) });
        w = l.Apply(c["w_act"], g.Node("Softmax", new[] { w }, new() { ["axis"] = 2L }));
        var v = g.Node("Reshape", new[] { l.Apply(c["v_act"], l.Apply(c["v"], h)), flat });
        var attended = g.Node("MatMul", new[] { v, g.Node("Transpose", new[] { w }, new() { ["perm"] = new long[] { 0, 2, 1 } }) });
        attended = g.Node("Reshape", new[] { attended, g.Node("Shape", new[] { x }) });
        return l.Add(x, l.Apply(c["proj_out"], attended));
    }

    private static string Iddpm(OnnxLayers l, IddpmUNet net, IddpmUNetConfig config)
    {
        var g = l.Graph;
        var top = C(net);
        int half = config.ModelChannels / 2;
        var freqs = (arange(0, half, dtype: ScalarType.Float32) * -Math.Log(10000) / half).exp();
        var timeEmbed = C(top["time_embed"]);
        var emb = l.Apply(timeEmbed["2"], l.Silu(l.Apply(timeEmbed["0"], Sinusoid(g, freqs, sinFirst: false))));

        int resolution = config.ImageSize;
        var hs = new List<string>();
        var x = InputX;
        foreach (var block in C(top["input_blocks"]).OrderBy(p => int.Parse(p.Key)).Select(p => p.Value))
        {
            x = IddpmSequence(l, block, x, emb, config, ref resolution);
            hs.Add(x);
        }
        x = IddpmSequence(l, top["middle_block"], x, emb, config, ref resolution);
        foreach (var block in C(top["output_blocks"]).OrderBy(p => int.Parse(p.Key)).Select(p => p.Value))
        {
            var skip = hs[^1];
            hs.RemoveAt(hs.Count - 1);
            x = IddpmSequence(l, block, g.Node("Concat", new[] { x, skip }, new() { ["axis"] = 1L }), emb, config, ref resolution);
        }
        var output = C(top["out"]);
        return l.Apply(output["2"], l.Silu(l.GroupNorm((GroupNorm)output["0"], x)));
    }

    private static string IddpmSequence(OnnxLayers l, Module sequence, string x, string emb, IddpmUNetConfig config, ref int resolution)
    {
        foreach (var layer in C(sequence).OrderBy(p => int.Parse(p.Key)).Select(p => p.Value))
        {
            switch (layer)
            {
                case IddpmResBlock res: x = IddpmResBlock(l, res, x, emb, config.UseScaleShiftNorm); break;
                case IddpmAttentionBlock attn: x = IddpmAttention(l, attn, x, resolution); break;
                case IddpmDownsample down: x = l.Apply(C(down)["op"], x); resolution /= 2; break;
                case IddpmUpsample up: x = l.Apply(C(up)["conv"], l.Upsample2x(x)); resolution *= 2; break;
                default: x = l.Apply(layer, x); break;   // the input conv (plain or quantized)
            }
        }
        return x;
    }

    private static string IddpmResBlock(OnnxLayers l, Module block, string x, string emb, bool scaleShift)
    {
        var c = C(block);
        var inLayers = C(c["in_layers"]);
        var outLayers = C(c["out_layers"]);
        var h = l.Apply(inLayers["2"], l.Silu(l.GroupNorm((GroupNorm)inLayers["0"], x)));
        var embOut = l.Spatial(l.Apply(C(c["emb_layers"])["1"], l.Silu(emb)));
        if (scaleShift)
        {
            var halves = l.Graph.NodeMulti("Split", new[] { l.Apply(c["emb_act"], embOut) }, 2, new() { ["axis"] = 1L });
            var normed = l.GroupNorm((GroupNorm)outLayers["0"], h);
            h = l.Add(l.Graph.Node("Mul", new[] { normed, l.Graph.Node("Add", new[] { halves[0], l.Graph.Float(1f) }) }), halves[1]);
        }
        else
        {
            h = l.GroupNorm((GroupNorm)outLayers["0"], l.Add(h, embOut));
        }
        h = l.Apply(outLayers["3"], l.Silu(h));
        var skip = c.TryGetValue("skip_connection", out var s) ? l.Apply(s, x) : x;
        return l.Add(skip, h);
    }

    private static string IddpmAttention(OnnxLayers l, IddpmAttentionBlock block, string x, int resolution)
    {
        var g = l.Graph;
        var c = C(block);
        long channels = ((GroupNorm)c["norm"]).weight!.shape[0], tokens = (long)resolution * resolution;
        long heads = block.NumHeads, ch = channels / heads;
        var flat = g.Node("Reshape", new[] { x, g.Ints(0, channels, -1) });                                   // [B, C, T]
        var packed = g.Node("Reshape", new[] { l.Apply(c["qkv"], l.GroupNorm1d((GroupNorm)c["norm"], flat)), g.Ints(-1, 3 * ch, tokens) });   // [B·heads, 3·ch, T]
        var parts = g.NodeMulti("Split", new[] { packed }, 3, new() { ["axis"] = 1L });
        var scale = g.Float((float)(1 / Math.Sqrt(Math.Sqrt(ch))));
        var q = l.Apply(c["q_act"], g.Node("Mul", new[] { parts[0], scale }));
        var k = l.Apply(c["k_act"], g.Node("Mul", new[] { parts[1], scale }));
        var weight = g.Node("MatMul", new[] { g.Node("Transpose", new[] { q }, new() { ["perm"] = new long[] { 0, 2, 1 } }), k });
        weight = l.Apply(c["w_act"], g.Node("Softmax", new[] { weight }, new() { ["axis"] = -1L }));
        var attended = g.Node("MatMul", new[] { l.Apply(c["v_act"], parts[2]), g.Node("Transpose", new[] { weight }, new() { ["perm"] = new long[] { 0, 2, 1 } }) });
        attended = g.Node("Reshape", new[] { attended, g.Ints(-1, channels, tokens) });
        var output = l.Add(flat, l.Apply(c["proj_out"], attended));
        return g.Node("Reshape", new[] { output, g.Node("Shape", new[] { x }) });
    }
}
