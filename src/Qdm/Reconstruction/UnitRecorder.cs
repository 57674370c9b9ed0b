using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Reconstruction;

/// <summary>Thrown to stop a forward pass once the recorded unit has run (the rest of the network is not needed).</summary>
internal sealed class StopForward : Exception { }

/// <summary>Stands in for a unit during a forward pass and keeps copies of what goes in and comes out.</summary>
internal interface IUnitRecorder
{
    Tensor? Input { get; }
    Tensor? Embedding { get; }
    Tensor? Output { get; }
    bool StopAfter { get; set; }
}

internal sealed class TensorRecorder(Module<Tensor, Tensor> inner) : Module<Tensor, Tensor>(nameof(TensorRecorder)), IUnitRecorder
{
    public Tensor? Input { get; private set; }
    public Tensor? Embedding => null;
    public Tensor? Output { get; private set; }
    public bool StopAfter { get; set; }
    public Module<Tensor, Tensor> Inner => inner;
    /// <summary>Order probes only note the call and record nothing.</summary>
    public Action? OnCall { get; init; }

    public override Tensor forward(Tensor x)
    {
        if (OnCall is not null) { OnCall(); return inner.call(x); }
        Input = x.detach().clone().DetachFromDisposeScope();
        if (StopAfter && !RecordOutput) throw new StopForward();
        var y = inner.call(x);
        Output = y.detach().clone().DetachFromDisposeScope();
        if (StopAfter) throw new StopForward();
        return y;
    }

    public bool RecordOutput { get; set; } = true;
}

internal sealed class EmbeddedRecorder(Module<Tensor, Tensor, Tensor> inner) : Module<Tensor, Tensor, Tensor>(nameof(EmbeddedRecorder)), IUnitRecorder
{
    public Tensor? Input { get; private set; }
    public Tensor? Embedding { get; private set; }
    public Tensor? Output { get; private set; }
    public bool StopAfter { get; set; }
    public bool RecordOutput { get; set; } = true;
    public Module<Tensor, Tensor, Tensor> Inner => inner;
    public Action? OnCall { get; init; }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        if (OnCall is not null) { OnCall(); return inner.call(x, emb); }
        Input = x.detach().clone().DetachFromDisposeScope();
        Embedding = emb.detach().clone().DetachFromDisposeScope();
        if (StopAfter && !RecordOutput) throw new StopForward();
        var y = inner.call(x, emb);
        Output = y.detach().clone().DetachFromDisposeScope();
        if (StopAfter) throw new StopForward();
        return y;
    }
}
