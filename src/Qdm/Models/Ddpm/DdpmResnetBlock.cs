using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Ddpm;

/// <summary>ddim `ResnetBlock` (conv_shortcut=False): norm1 → swish → conv1 (+ temb_proj(swish(temb))) → norm2 → swish → conv2, plus skip.</summary>
public sealed class DdpmResnetBlock : EmbeddedPart
{
    private readonly bool hasShortcut;

    public DdpmResnetBlock(int inChannels, int outChannels, int tembChannels) : base(nameof(DdpmResnetBlock))
    {
        Add("norm1", Layers.Norm(inChannels, DdpmUNet.NormEps));
        Add("conv1", Layers.Conv(inChannels, outChannels, 3, padding: 1));
        Add("temb_proj", Layers.Dense(tembChannels, outChannels));
        Add("norm2", Layers.Norm(outChannels, DdpmUNet.NormEps));
        Add("conv2", Layers.Conv(outChannels, outChannels, 3, padding: 1));
        hasShortcut = inChannels != outChannels;
        if (hasShortcut) Add("nin_shortcut", Layers.Conv(inChannels, outChannels, 1));
    }

    public override Tensor forward(Tensor x, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var h = Layer("conv1").call(F.silu(Layer("norm1").call(x)));
        h = h + Layer("temb_proj").call(F.silu(temb))[.., .., TensorIndex.None, TensorIndex.None];
        // Dropout sits here in training; inference skips it.
        h = Layer("conv2").call(F.silu(Layer("norm2").call(h)));
        var skip = hasShortcut ? Layer("nin_shortcut").call(x) : x;
        return (skip + h).MoveToOuterDisposeScope();
    }
}
