using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Iddpm;

/// <summary>improved-diffusion `AttentionBlock` with `QKVAttention` (legacy head layout: per head [q, k, v]).</summary>
public sealed class IddpmAttentionBlock : TensorPart
{
    private readonly int numHeads;

    public int NumHeads => numHeads;

    public IddpmAttentionBlock(int channels, int numHeads) : base(nameof(IddpmAttentionBlock))
    {
        if (channels % numHeads != 0)
            throw new ArgumentException($"attention channels {channels} are not divisible by num_heads {numHeads}.");
        this.numHeads = numHeads;
        Add("norm", Layers.Norm(channels, IddpmResBlock.NormEps));
        Add("qkv", Layers.Conv1x1D(channels, 3 * channels));
        Add("proj_out", Layers.Conv1x1D(channels, channels));
        foreach (var slot in new[] { "q_act", "k_act", "w_act", "v_act" }) Add(slot, new Slot());
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], c = x.shape[1];
        var flat = x.reshape(b, c, -1);                                                   // [B, C, T]
        long tokens = flat.shape[2];
        var packed = Layer("qkv").call(Layer("norm").call(flat)).reshape(b * numHeads, -1, tokens);   // [B·heads, 3·Ch, T]
        long ch = packed.shape[1] / 3;
        var parts = packed.split(ch, 1);                                                  // q, k, v: [B·heads, Ch, T]
        double scale = 1 / Math.Sqrt(Math.Sqrt(ch));                                      // q and k each scaled by Ch^(-1/4)
        var q = Layer("q_act").call(parts[0] * scale);
        var k = Layer("k_act").call(parts[1] * scale);
        var weight = bmm(q.transpose(1, 2), k);                                           // [B·heads, T, S]
        weight = Layer("w_act").call(F.softmax(weight, -1));
        var attended = bmm(Layer("v_act").call(parts[2]), weight.transpose(1, 2)).reshape(b, c, tokens);   // a[c,t] = Σ_s w[t,s] v[c,s]
        return (flat + Layer("proj_out").call(attended)).reshape(x.shape).MoveToOuterDisposeScope();
    }
}
