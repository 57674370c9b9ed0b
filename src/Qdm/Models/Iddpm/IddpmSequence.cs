using Qdm.Nn;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Models.Iddpm;

/// <summary>`TimestepEmbedSequential`: children "0", "1", ...; ResBlocks receive the embedding, other layers only x.</summary>
public sealed class IddpmSequence : EmbeddedPart
{
    public int Count { get; }

    public IddpmSequence(params Module[] layers) : base(nameof(IddpmSequence))
    {
        for (int i = 0; i < layers.Length; i++)
        {
            if (layers[i] is not Module<Tensor, Tensor, Tensor> and not Module<Tensor, Tensor>)
                throw new ArgumentException($"{layers[i].GetType().Name} is neither a time-step layer nor a tensor→tensor module.");
            Add(i.ToString(), layers[i]);
        }
        Count = layers.Length;
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        var h = x;
        for (int i = 0; i < Count; i++)
            h = Child<Module>(i.ToString()) switch
            {
                Module<Tensor, Tensor, Tensor> timed => timed.call(h, emb),
                Module<Tensor, Tensor> plain => plain.call(h),
                var other => throw new InvalidOperationException($"unexpected layer {other.GetType().Name}"),
            };
        return h.MoveToOuterDisposeScope();
    }
}
