using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Iddpm;

/// <summary>improved-diffusion `ResBlock` (use_conv=False): in_layers, emb_layers, out_layers, skip_connection.</summary>
public sealed class IddpmResBlock : EmbeddedPart
{
    internal const double NormEps = 1e-5;
    private readonly bool useScaleShiftNorm, hasSkipConv;

    public IddpmResBlock(int channels, int embChannels, int outChannels, bool useScaleShiftNorm) : base(nameof(IddpmResBlock))
    {
        this.useScaleShiftNorm = useScaleShiftNorm;
        // Sequential indices follow the reference: in_layers = [norm, SiLU, conv], emb_layers = [SiLU, linear],
        // out_layers = [norm, SiLU, Dropout, conv]; only the modules with parameters are registered.
        var inLayers = Add("in_layers", new Part("in_layers"));
        inLayers.Add("0", Layers.Norm(channels, NormEps));
        inLayers.Add("2", Layers.Conv(channels, outChannels, 3, padding: 1));
        var embLayers = Add("emb_layers", new Part("emb_layers"));
        embLayers.Add("1", Layers.Dense(embChannels, useScaleShiftNorm ? 2 * outChannels : outChannels));
        var outLayers = Add("out_layers", new Part("out_layers"));
        outLayers.Add("0", Layers.Norm(outChannels, NormEps));
        outLayers.Add("3", Layers.Conv(outChannels, outChannels, 3, padding: 1));
        if (useScaleShiftNorm) Add("emb_act", new Slot());   // [scale | shift]: one quantizer, or two with DI2N's split
        hasSkipConv = channels != outChannels;
        if (hasSkipConv) Add("skip_connection", Layers.Conv(channels, outChannels, 1));
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        var inLayers = Child<Part>("in_layers");
        var outLayers = Child<Part>("out_layers");
        var h = inLayers.Layer("2").call(F.silu(inLayers.Layer("0").call(x)));
        var embOut = Child<Part>("emb_layers").Layer("1").call(F.silu(emb))[.., .., TensorIndex.None, TensorIndex.None];   // [B, C or 2C, 1, 1]
        if (useScaleShiftNorm)
        {
            var halves = Layer("emb_act").call(embOut).chunk(2, 1);           // scale, shift
            h = outLayers.Layer("0").call(h) * (halves[0] + 1) + halves[1];   // norm(h)·(1 + scale) + shift
        }
        else
        {
            h = outLayers.Layer("0").call(h + embOut);
        }
        h = outLayers.Layer("3").call(F.silu(h));   // Dropout sits before this conv in training; inference skips it.
        var skip = hasSkipConv ? Layer("skip_connection").call(x) : x;
        return (skip + h).MoveToOuterDisposeScope();
    }
}
