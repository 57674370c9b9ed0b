using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Ddpm;

/// <summary>ddim `AttnBlock`: single-head self-attention over pixels with 1×1 conv projections.</summary>
public sealed class DdpmAttnBlock : TensorPart
{
    public DdpmAttnBlock(int channels) : base(nameof(DdpmAttnBlock))
    {
        Add("norm", Layers.Norm(channels, DdpmUNet.NormEps));
        Add("q", Layers.Conv(channels, channels, 1));
        Add("k", Layers.Conv(channels, channels, 1));
        Add("v", Layers.Conv(channels, channels, 1));
        Add("proj_out", Layers.Conv(channels, channels, 1));
        foreach (var slot in new[] { "q_act", "k_act", "w_act", "v_act" }) Add(slot, new Slot());
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = Layer("norm").call(x);
        long b = x.shape[0], c = x.shape[1], hh = x.shape[2], ww = x.shape[3];
        var query = Layer("q_act").call(Layer("q").call(h)).reshape(b, c, hh * ww).permute(0, 2, 1);   // [B, HW, C]
        var key = Layer("k_act").call(Layer("k").call(h)).reshape(b, c, hh * ww);                      // [B, C, HW]
        var weights = bmm(query, key) * Math.Pow(c, -0.5);                        // w[b,i,j] = Σ_c q[b,c,i] k[b,c,j] / √C
        weights = Layer("w_act").call(F.softmax(weights, 2));
        var value = Layer("v_act").call(Layer("v").call(h)).reshape(b, c, hh * ww);                    // [B, C, HW]
        var attended = bmm(value, weights.permute(0, 2, 1)).reshape(b, c, hh, ww);   // h[b,c,i] = Σ_j v[b,c,j] w[b,i,j]
        return (x + Layer("proj_out").call(attended)).MoveToOuterDisposeScope();
    }
}
