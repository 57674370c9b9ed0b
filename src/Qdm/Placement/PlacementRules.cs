using Qdm.Models;

namespace Qdm.Placement;

[Flags]
public enum LayerKinds { Conv2d = 1, Conv1d = 2, Linear = 4, All = Conv2d | Conv1d | Linear }

/// <summary>Which tensor of a layer carries the activation quantizer.</summary>
public enum ActivationPoint { None, Input, Output }

/// <summary>One row of a placement table: layers of this role and kind get a weight quantizer and an activation quantizer at this point.</summary>
public sealed record LayerRule(LayerRole Role, LayerKinds Kinds, bool Weight, ActivationPoint Activation);

/// <summary>The placements as data: countable in tests and printable by `qdm inspect`.</summary>
public static class PlacementRules
{
    private static readonly LayerRole[] AllRoles = Enum.GetValues<LayerRole>();

    /// <summary>PTQ4DM: Conv2d and Linear only, weight + output quantizer (BRECQ/QDrop QuantModule on an unfused U-Net).</summary>
    public static readonly IReadOnlyList<LayerRule> Ptq4dm =
        AllRoles.Select(r => new LayerRule(r, LayerKinds.Conv2d | LayerKinds.Linear, Weight: true, ActivationPoint.Output)).ToList();

    /// <summary>DI2N order: every conv/linear, weight + the tensor it consumes.</summary>
    public static readonly IReadOnlyList<LayerRule> Full =
        AllRoles.Select(r => new LayerRule(r, LayerKinds.All, Weight: true, ActivationPoint.Input)).ToList();

    /// <summary>Activation slots each placement quantizes.</summary>
    public static IReadOnlyList<SlotRole> Slots(PlacementKind kind) => kind switch
    {
        PlacementKind.Full => new[] { SlotRole.AttentionQuery, SlotRole.AttentionKey, SlotRole.AttentionWeights, SlotRole.AttentionValue, SlotRole.TimeEmbeddingOutput },
        _ => Array.Empty<SlotRole>(),
    };

    public static IReadOnlyList<LayerRule> Layers(PlacementKind kind) => kind == PlacementKind.Full ? Full : Ptq4dm;
}
