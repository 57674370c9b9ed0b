using System.Text.Json;
using Qdm.IO;
using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Placement;
using Qdm.Quant;
using static TorchSharp.torch;

namespace Qdm.Export;

/// <summary>
/// The deployable quantized model: integer weights (int8, or two 4-bit values per byte) with their per-channel scales,
/// every activation quantizer's step and zero point, the remaining FP tensors (norms, biases, unquantized layers), the
/// architecture and placement. It reloads without the FP checkpoint and without calibration data.
/// </summary>
public static class CompactModelFile
{
    public const string Format = "qdm-compact-model";

    public static void Save(string path, QuantizedUNet model, Diffusion.DiffusionConfig diffusion, IReadOnlyDictionary<string, string> provenance)
    {
        var tensors = new Dictionary<string, Tensor>();
        var weightNames = new HashSet<string>();
        using (no_grad())
        {
            foreach (var layer in model.Network.modules().OfType<QuantLayer>())
            {
                weightNames.Add(layer.Path + ".weight");
                var slices = layer.SplitAt is { } s ? layer.Weight.split(new long[] { s, layer.Weight.shape[1] - s }, 1) : new[] { layer.Weight };
                for (int i = 0; i < slices.Length; i++)
                {
                    var q = layer.WeightQuantizers[i];
                    if (!q.IsCalibrated || q.Spec.PassThrough || !q.Enabled)
                    {
                        tensors[q.Label + "/float"] = slices[i].detach();
                        continue;
                    }
                    var integers = q.Integers(slices[i]) - q.ZeroPoint.reshape(new long[] { -1 }.Concat(Enumerable.Repeat(1L, (int)slices[i].dim() - 1)).ToArray());
                    tensors[q.Label + "/int"] = IntPacking.Pack(integers, q.Spec.Bits);
                }
            }
            foreach (var e in model.Entries)
                if (e.Quantizer.IsCalibrated)
                {
                    tensors[e.Quantizer.Label + "/delta"] = e.Quantizer.Delta.detach();
                    tensors[e.Quantizer.Label + "/zero_point"] = e.Quantizer.ZeroPoint;
                }
            // The architecture's own parameters (not quantizer steps or rounding variables), except the quantized weights.
            using var plain = ModelFactory.Create(model.Network.Config);
            var own = plain.named_parameters().Select(p => p.name).ToHashSet();
            foreach (var (name, parameter) in model.Network.named_parameters())
                if (own.Contains(name) && !weightNames.Contains(name)) tensors["fp/" + name] = parameter.detach();
        }
        var metadata = new Dictionary<string, string>(provenance)
        {
            ["format"] = Format,
            ["version"] = "1",
            ["family"] = model.Network.Config.Family.ToString(),
            ["architecture"] = JsonSerializer.Serialize(model.Network.Config, model.Network.Config.GetType()),
            ["placement"] = JsonSerializer.Serialize(model.Config),
            ["diffusion"] = JsonSerializer.Serialize(diffusion),
        };
        Safetensors.Write(path, tensors, metadata);
    }

    public static (QuantizedUNet Model, Diffusion.DiffusionConfig Diffusion, IReadOnlyDictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new QdmInputException($"quantized model not found: {path}");
        var content = Safetensors.Read(path);
        if (content.Metadata.GetValueOrDefault("format") != Format)
            throw new QdmInputException($"{path} is not a compact Qdm model (format '{content.Metadata.GetValueOrDefault("format")}').");
        UNetConfig config = Enum.Parse<UNetFamily>(content.Metadata["family"]) switch
        {
            UNetFamily.Ddpm => JsonSerializer.Deserialize<DdpmUNetConfig>(content.Metadata["architecture"])!,
            _ => JsonSerializer.Deserialize<IddpmUNetConfig>(content.Metadata["architecture"])!,
        };
        var placement = JsonSerializer.Deserialize<PlacementConfig>(content.Metadata["placement"])!;
        var network = ModelFactory.Create(config);
        using (no_grad())
        {
            var parameters = network.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, value) in content.Tensors.Where(p => p.Key.StartsWith("fp/", StringComparison.Ordinal)))
                parameters[name[3..]].copy_(value);
            // Weights: (integer) · Δ per output channel; requantizing them with the same Δ gives the same integers back.
            foreach (var site in network.LayerSites())
            {
                var weight = parameters[site.Path + ".weight"];
                var pieces = new List<Tensor>();
                foreach (var suffix in new[] { "", ".a", ".b" })
                {
                    var label = site.Path + ".weight" + suffix;
                    if (content.Tensors.TryGetValue(label + "/float", out var f)) pieces.Add(f);
                    else if (content.Tensors.TryGetValue(label + "/int", out var packed))
                    {
                        var delta = content.Tensors[label + "/delta"];
                        long columns = suffix == "" ? weight.shape[1] : suffix == ".a" ? SkipSplit(site) : weight.shape[1] - SkipSplit(site);
                        var shape = new long[] { weight.shape[0], columns }.Concat(weight.shape.Skip(2)).ToArray();
                        var bits = BitsOf(placement, site);
                        pieces.Add(IntPacking.Unpack(packed, bits, shape) * delta.reshape(new long[] { -1 }.Concat(Enumerable.Repeat(1L, shape.Length - 1)).ToArray()));
                    }
                }
                if (pieces.Count > 0) weight.copy_(pieces.Count == 1 ? pieces[0] : cat(pieces.ToArray(), 1));
            }
        }
        var model = Quantization.Quantize(network, placement with { Weights = placement.Weights with { Range = RangeMethod.MinMax } });
        foreach (var e in model.Entries)
            if (content.Tensors.TryGetValue(e.Quantizer.Label + "/delta", out var delta))
                e.Quantizer.SetRange(delta, content.Tensors[e.Quantizer.Label + "/zero_point"]);
        var diffusion = JsonSerializer.Deserialize<Diffusion.DiffusionConfig>(content.Metadata["diffusion"])!;
        return (model, diffusion, content.Metadata);

        int SkipSplit(LayerSite site) => site.SkipSplit ?? throw new InvalidDataException($"{path}: split weights for an unsplit layer {site.Path}.");
    }

    private static int BitsOf(PlacementConfig placement, LayerSite site) =>
        site.Role is LayerRole.First or LayerRole.Last && placement.EdgeLayers == EdgeLayers.EightBit ? 8 : placement.WeightBits;
}
