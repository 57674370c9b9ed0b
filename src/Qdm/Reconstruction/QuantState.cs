using System.Text.Json;
using Qdm.IO;
using Qdm.Placement;
using Qdm.Quant;
using static TorchSharp.torch;

namespace Qdm.Reconstruction;

/// <summary>
/// Everything calibration and reconstruction decided, keyed by quantizer label: step sizes and zero points, and AdaRound's
/// rounding decisions (1 byte per weight). Saved after every unit so an interrupted run resumes at the next one.
/// </summary>
public static class QuantState
{
    public static void Save(QuantizedUNet model, string path, IReadOnlyCollection<string> finishedUnits, string fingerprint)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var e in model.Entries)
        {
            var q = e.Quantizer;
            if (!q.IsCalibrated) continue;
            tensors[q.Label + "/delta"] = q.Delta.detach();
            tensors[q.Label + "/zero_point"] = q.ZeroPoint;
            if (q.Rounding is { Hard: true } r) tensors[q.Label + "/round_up"] = r.HardOffset().to(ScalarType.Byte);
        }
        Safetensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "qdm-quant-state",
            ["finished_units"] = JsonSerializer.Serialize(finishedUnits),
            ["fingerprint"] = fingerprint,
        });
    }

    /// <summary>Applies a saved state; returns the finished units, or null when the file belongs to another setup.</summary>
    public static IReadOnlyList<string>? Load(QuantizedUNet model, string path, string fingerprint)
    {
        var content = Safetensors.Read(path);
        if (content.Metadata.GetValueOrDefault("format") != "qdm-quant-state" || content.Metadata.GetValueOrDefault("fingerprint") != fingerprint)
            return null;
        Apply(model, content.Tensors);
        return JsonSerializer.Deserialize<List<string>>(content.Metadata["finished_units"]) ?? new List<string>();
    }

    /// <summary>Sets every quantizer named in the tensors (step, zero point, AdaRound decisions); all must be present.</summary>
    public static void Apply(QuantizedUNet model, IReadOnlyDictionary<string, TorchSharp.torch.Tensor> tensors)
    {
        var weights = model.Network.modules().OfType<QuantLayer>().ToList();
        foreach (var e in model.Entries)
        {
            var q = e.Quantizer;
            if (tensors.TryGetValue(q.Label + "/delta", out var delta))
                q.SetRange(delta, tensors[q.Label + "/zero_point"]);
            if (tensors.TryGetValue(q.Label + "/round_up", out var up))
            {
                var layer = weights.First(l => l.WeightQuantizers.Contains(q));
                int index = Array.IndexOf(layer.WeightQuantizers, q);
                layer.StartAdaRound()[index].SetDecisions(up);
            }
        }
    }
}
