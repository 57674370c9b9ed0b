using TorchSharp.Utils;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Nn;

/// <summary>
/// A module whose children are looked up by name at every forward, so a child can be swapped for a wrapper
/// (quantization, observers) without the model class knowing. Names are the original PyTorch attribute names.
/// </summary>
public interface IChildSlots
{
    void ReplaceChild(string name, Module replacement);
}

internal static class ChildSlots
{
    public static T Get<T>(OrderedDict<string, Module> children, string name, Module owner) where T : class =>
        children.TryGetValue(name, out var child)
            ? child as T ?? throw new InvalidCastException($"{owner.GetName()}.{name} is a {child.GetType().Name}, not a {typeof(T).Name}.")
            : throw new KeyNotFoundException($"{owner.GetName()} has no child '{name}'.");

    public static void Replace(OrderedDict<string, Module> children, string name, Module replacement, Module owner)
    {
        if (!children.ContainsKey(name)) throw new KeyNotFoundException($"{owner.GetName()} has no child '{name}' to replace.");
        children[name] = replacement;
    }
}

/// <summary>A container without a forward of its own (e.g. `temb`, `down.0`, `in_layers`).</summary>
public class Part : Module, IChildSlots
{
    public Part(string name) : base(name) { }

    public T Add<T>(string name, T child) where T : Module { register_module(name, child); return child; }
    public T Child<T>(string name) where T : class => ChildSlots.Get<T>(_internal_submodules, name, this);
    public Module<Tensor, Tensor> Layer(string name) => Child<Module<Tensor, Tensor>>(name);
    public bool Has(string name) => _internal_submodules.ContainsKey(name);
    public void ReplaceChild(string name, Module replacement) => ChildSlots.Replace(_internal_submodules, name, replacement, this);
}

/// <summary>A tensor → tensor module with named child slots.</summary>
public abstract class TensorPart : Module<Tensor, Tensor>, IChildSlots
{
    protected TensorPart(string name) : base(name) { }

    protected T Add<T>(string name, T child) where T : Module { register_module(name, child); return child; }
    protected T Child<T>(string name) where T : class => ChildSlots.Get<T>(_internal_submodules, name, this);
    protected Module<Tensor, Tensor> Layer(string name) => Child<Module<Tensor, Tensor>>(name);
    public void ReplaceChild(string name, Module replacement) => ChildSlots.Replace(_internal_submodules, name, replacement, this);
}

/// <summary>A (tensor, time embedding) → tensor module with named child slots.</summary>
public abstract class EmbeddedPart : Module<Tensor, Tensor, Tensor>, IChildSlots
{
    protected EmbeddedPart(string name) : base(name) { }

    protected T Add<T>(string name, T child) where T : Module { register_module(name, child); return child; }
    protected T Child<T>(string name) where T : class => ChildSlots.Get<T>(_internal_submodules, name, this);
    protected Module<Tensor, Tensor> Layer(string name) => Child<Module<Tensor, Tensor>>(name);
    protected bool Has(string name) => _internal_submodules.ContainsKey(name);
    public void ReplaceChild(string name, Module replacement) => ChildSlots.Replace(_internal_submodules, name, replacement, this);
}

/// <summary>Children named "0", "1", ... as nn.ModuleList / nn.Sequential name them, read through the slots.</summary>
public sealed class IndexedParts<T> : Part where T : Module
{
    public int Count { get; }

    public IndexedParts(string name, IEnumerable<T> items) : base(name)
    {
        int i = 0;
        foreach (var item in items) Add((i++).ToString(), item);
        Count = i;
    }

    public T this[int index] => Child<T>(index.ToString());

    public IEnumerable<T> Items => Enumerable.Range(0, Count).Select(i => this[i]);
}

/// <summary>Layer factories shared by the U-Nets; convolutions and linears are returned as plain Module&lt;Tensor, Tensor&gt;.</summary>
internal static class Layers
{
    public static Module<Tensor, Tensor> Conv(long inCh, long outCh, long kernel, long stride = 1, long padding = 0) =>
        Conv2d(inCh, outCh, kernel, stride: stride, padding: padding);

    public static Module<Tensor, Tensor> Conv1x1D(long inCh, long outCh) => Conv1d(inCh, outCh, 1);

    public static Module<Tensor, Tensor> Dense(long inFeatures, long outFeatures) => Linear(inFeatures, outFeatures);

    /// <summary>GroupNorm(32) with PyTorch's initial affine values (γ = 1, β = 0): TorchSharp 0.107 leaves them uninitialised.</summary>
    public static Module<Tensor, Tensor> Norm(long channels, double eps)
    {
        var norm = GroupNorm(32, channels, eps: eps, affine: true);
        using (no_grad())
        {
            norm.weight!.fill_(1);
            norm.bias!.zero_();
        }
        return norm;
    }
}

/// <summary>
/// A named point inside a block where a tensor can be observed or quantized (attention operands, the time-embedding
/// output). Identity in the plain model: it adds no parameters and returns its input unchanged.
/// </summary>
public sealed class Slot : Module<Tensor, Tensor>
{
    public Slot() : base(nameof(Slot)) { }

    public override Tensor forward(Tensor x) => x;
}
