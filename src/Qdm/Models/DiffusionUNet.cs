using Qdm.Nn;
using static TorchSharp.torch;

namespace Qdm.Models;

/// <summary>
/// The one contract every model follows: output = model(x, t), where t is the time step the network itself is fed
/// (the real DDPM index for ddim models; t·1000/T for improved-diffusion with rescaled time steps).
/// The output has OutChannels channels: ε, or ε followed by the variance interpolation values.
/// </summary>
public abstract class DiffusionUNet : EmbeddedPart
{
    /// <summary>Channels of h in the decoder concat [h, skip] consumed by each decoder shortcut, by module path.</summary>
    protected readonly Dictionary<string, int> SkipSplits = new();

    protected DiffusionUNet(string name) : base(name) { }

    public abstract UNetConfig Config { get; }

    /// <summary>The role of the conv/linear at a path (each family names its layers differently).</summary>
    protected abstract LayerRole RoleOf(string path);

    /// <summary>Every convolution and linear layer with its role, in module order.</summary>
    public IReadOnlyList<LayerSite> LayerSites() => named_modules()
        .Where(m => m.module is TorchSharp.Modules.Convolution or TorchSharp.Modules.Linear)
        .Select(m => new LayerSite(m.name, RoleOf(m.name), SkipSplits.TryGetValue(m.name, out var split) ? split : null))
        .ToList();

    /// <summary>Every activation slot (attention operands, time-embedding outputs).</summary>
    public IReadOnlyList<SlotSite> SlotSites() => named_modules()
        .Where(m => m.module is Slot)
        .Select(m => new SlotSite(m.name, m.name[(m.name.LastIndexOf('.') + 1)..] switch
        {
            "q_act" => SlotRole.AttentionQuery,
            "k_act" => SlotRole.AttentionKey,
            "w_act" => SlotRole.AttentionWeights,
            "v_act" => SlotRole.AttentionValue,
            "emb_act" => SlotRole.TimeEmbeddingOutput,
            var other => throw new InvalidOperationException($"unknown slot '{other}' at {m.name}"),
        }))
        .ToList();

    /// <summary>The module at a dotted path (e.g. "down.0.block.1.conv1").</summary>
    public TorchSharp.torch.nn.Module ModuleAt(string path) =>
        named_modules().FirstOrDefault(m => m.name == path).module
        ?? throw new KeyNotFoundException($"the model has no module '{path}'.");

    /// <summary>Replaces the module at a path (its parent must be a slotted part).</summary>
    public void ReplaceAt(string path, TorchSharp.torch.nn.Module replacement)
    {
        int dot = path.LastIndexOf('.');
        var parent = dot < 0 ? this : ModuleAt(path[..dot]);
        if (parent is not IChildSlots slots) throw new InvalidOperationException($"{path[..Math.Max(dot, 0)]} cannot replace its children.");
        slots.ReplaceChild(path[(dot + 1)..], replacement);
    }
}
