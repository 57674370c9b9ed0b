using System.Text.RegularExpressions;
using Qdm.Models;
using Qdm.Quant;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Qdm.Placement;

/// <summary>quantize(model, config): wraps a U-Net's layers and slots according to a placement. The model is changed in place.</summary>
public static class Quantization
{
    public static QuantizedUNet Quantize(DiffusionUNet network, PlacementConfig config)
    {
        config.Validated();
        var exclude = config.Exclude.Select(p => new Regex(p)).ToList();
        bool Excluded(string path) => exclude.Any(r => r.IsMatch(path));
        var entries = new List<QuantEntry>();
        var rules = PlacementRules.Layers(config.Kind);

        foreach (var site in network.LayerSites())
        {
            if (Excluded(site.Path)) continue;
            var module = (nn.Module<Tensor, Tensor>)network.ModuleAt(site.Path);
            var kind = module switch { Conv2d => LayerKinds.Conv2d, Conv1d => LayerKinds.Conv1d, _ => LayerKinds.Linear };
            var rule = rules.FirstOrDefault(r => r.Role == site.Role && r.Kinds.HasFlag(kind));
            if (rule is null) continue;
            bool edge = site.Role is LayerRole.First or LayerRole.Last;
            if (edge && config.EdgeLayers == EdgeLayers.FullPrecision) continue;
            int wBits = edge && config.EdgeLayers == EdgeLayers.EightBit ? 8 : config.WeightBits;
            int aBits = edge && config.EdgeLayers == EdgeLayers.EightBit ? 8 : config.ActivationBits;
            var act = config.Activations with { Bits = aBits };
            int? split = config.Kind == PlacementKind.Full && config.SplitSkip ? site.SkipSplit : null;
            var layer = new QuantLayer(site.Path, module, config.Weights with { Bits = wBits },
                rule.Activation == ActivationPoint.Input ? act : null,
                rule.Activation == ActivationPoint.Output || config.IntegerKernels ? act : null, split)
            {
                IntegerBias = config.IntegerKernels,
            };
            network.ReplaceAt(site.Path, layer);
            var role = site.Role.ToString();
            entries.AddRange(layer.WeightQuantizers.Select(q => new QuantEntry(site.Path, role, QuantTensor.Weight, q)));
            entries.AddRange(layer.InputQuantizers.Select(q => new QuantEntry(site.Path, role, QuantTensor.Input, q)));
            if (layer.OutputQuantizer is { } o) entries.Add(new QuantEntry(site.Path, role, QuantTensor.Output, o));
        }

        var slotRoles = PlacementRules.Slots(config.Kind);
        foreach (var slot in network.SlotSites())
        {
            if (!slotRoles.Contains(slot.Role) || Excluded(slot.Path)) continue;
            int bits = slot.Role == SlotRole.AttentionWeights ? config.AttentionBits ?? config.ActivationBits : config.ActivationBits;
            var spec = config.Activations with { Bits = bits };
            // A logarithmic grid's top is the observed maximum: clipping the largest probabilities gains nothing.
            if (slot.Role == SlotRole.AttentionWeights && config.AttentionGrid != QuantGrid.Uniform)
                spec = spec with { Grid = config.AttentionGrid, Range = RangeMethod.MinMax };
            if (slot.Role == SlotRole.AttentionWeights) spec = spec with { RowNormalized = config.AttentionRowNormalized };
            if (slot.Role == SlotRole.TimeEmbeddingOutput && config.SplitTimeEmbedding)
            {
                var split = new SplitQuantizer(spec, slot.Path);
                network.ReplaceAt(slot.Path, split);
                entries.Add(new QuantEntry(slot.Path, slot.Role + "Scale", QuantTensor.Slot, split.First));
                entries.Add(new QuantEntry(slot.Path, slot.Role + "Shift", QuantTensor.Slot, split.Second));
            }
            else
            {
                var quantizer = new UniformQuantizer(spec, slot.Path);
                network.ReplaceAt(slot.Path, quantizer);
                entries.Add(new QuantEntry(slot.Path, slot.Role.ToString(), QuantTensor.Slot, quantizer));
            }
        }
        return new QuantizedUNet(network, config, entries);
    }
}
