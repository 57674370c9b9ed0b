using System.CommandLine;
using Qdm.Placement;
using Qdm.Quant;

namespace Qdm.Cli;

/// <summary>Options that choose a placement and its bit widths.</summary>
public sealed class PlacementOptions
{
    public Option<PlacementKind> Placement { get; } = new("--placement") { Description = "full (DI2N order) or ptq4dm.", DefaultValueFactory = _ => PlacementKind.Full };
    public Option<int> WeightBits { get; } = new("--w-bits") { Description = "Weight bits (2–8, 16 = off).", DefaultValueFactory = _ => 8 };
    public Option<int> ActivationBits { get; } = new("--a-bits") { Description = "Activation bits (2–8, 16 = off).", DefaultValueFactory = _ => 8 };
    public Option<int?> AttentionBits { get; } = new("--attn-bits") { Description = "Bits of the softmax output (default: --a-bits)." };
    public Option<QuantGrid> AttentionGrid { get; } = new("--attn-grid")
    {
        Description = "Grid of the softmax output: uniform, log2 (powers of 2) or logsqrt2 (powers of √2).", DefaultValueFactory = _ => QuantGrid.Uniform,
    };
    public Option<bool> AttentionRenorm { get; } = new("--attn-renorm") { Description = "Rescale each quantized softmax row to sum to 1 (one float scale per row on A·V)." };
    public Option<bool> SplitTimeEmbedding { get; } = new("--split-temb") { Description = "Separate quantizers for the scale and shift halves (scale-shift models)." };
    public Option<bool> NoSplitSkip { get; } = new("--no-split-skip") { Description = "One quantizer for the decoder skip concat instead of two." };
    public Option<EdgeLayers> Edge { get; } = new("--edge") { Description = "First/last conv: eightbit, fullprecision or same.", DefaultValueFactory = _ => EdgeLayers.EightBit };
    public Option<bool> IntegerKernels { get; } = new("--integer-kernels") { Description = "Also quantize every layer output and keep biases on the int32 grid (what fused int8 kernels need)." };
    public Option<string[]> Exclude { get; } = new("--exclude") { Description = "Regular expressions of module paths to leave in full precision.", AllowMultipleArgumentsPerToken = true };

    public IReadOnlyList<Option> All => new Option[] { Placement, WeightBits, ActivationBits, AttentionBits, AttentionGrid, AttentionRenorm, SplitTimeEmbedding, NoSplitSkip, Edge, IntegerKernels, Exclude };

    public void AddTo(Command command)
    {
        foreach (var option in All) command.Options.Add(option);
    }

    /// <summary>
    /// A method's placement with every placement option the command line gives explicitly applied on top; options left
    /// out keep the method's value (and its quantizer specs, which have no options, always stay).
    /// </summary>
    public PlacementConfig Over(PlacementConfig method, ParseResult result)
    {
        bool Given(Option o) => result.GetResult(o) is { Implicit: false };
        var placed = Build(result);
        return (method with
        {
            Kind = Given(Placement) ? placed.Kind : method.Kind,
            WeightBits = Given(WeightBits) ? placed.WeightBits : method.WeightBits,
            ActivationBits = Given(ActivationBits) ? placed.ActivationBits : method.ActivationBits,
            AttentionBits = Given(AttentionBits) ? placed.AttentionBits : method.AttentionBits,
            AttentionGrid = Given(AttentionGrid) ? placed.AttentionGrid : method.AttentionGrid,
            AttentionRowNormalized = Given(AttentionRenorm) ? placed.AttentionRowNormalized : method.AttentionRowNormalized,
            SplitTimeEmbedding = Given(SplitTimeEmbedding) ? placed.SplitTimeEmbedding : method.SplitTimeEmbedding,
            SplitSkip = Given(NoSplitSkip) ? placed.SplitSkip : method.SplitSkip,
            EdgeLayers = Given(Edge) ? placed.EdgeLayers : method.EdgeLayers,
            IntegerKernels = Given(IntegerKernels) ? placed.IntegerKernels : method.IntegerKernels,
            Exclude = Given(Exclude) ? placed.Exclude : method.Exclude,
        }).Validated();
    }

    public PlacementConfig Build(ParseResult result) => new PlacementConfig
    {
        Kind = result.GetValue(Placement),
        WeightBits = result.GetValue(WeightBits),
        ActivationBits = result.GetValue(ActivationBits),
        AttentionBits = result.GetValue(AttentionBits),
        AttentionGrid = result.GetValue(AttentionGrid),
        AttentionRowNormalized = result.GetValue(AttentionRenorm),
        SplitTimeEmbedding = result.GetValue(SplitTimeEmbedding),
        SplitSkip = !result.GetValue(NoSplitSkip),
        EdgeLayers = result.GetValue(Edge),
        Exclude = result.GetValue(Exclude) ?? Array.Empty<string>(),
        IntegerKernels = result.GetValue(IntegerKernels),
    }.Validated();
}
