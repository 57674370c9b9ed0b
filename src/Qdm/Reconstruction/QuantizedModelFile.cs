using System.Security.Cryptography;
using System.Text.Json;
using Qdm.IO;
using Qdm.Placement;

namespace Qdm.Reconstruction;

/// <summary>What produced a quantized model: kept in its file so results can be traced and the model rebuilt.</summary>
public sealed record QuantizationRecord(string Source, string SourceSha256, string Architecture, string Diffusion, PlacementConfig Placement,
    string Calibration, string Reconstruction, double Seconds);

/// <summary>
/// A quantized model's decisions (step sizes, zero points, AdaRound rounding) with the placement and provenance, as
/// safetensors. Rebuilding it needs the FP checkpoint it names (checked by sha256); the compact integer format is the
/// deployable-model issue's.
/// </summary>
public static class QuantizedModelFile
{
    public static void Save(string path, QuantizedUNet model, QuantizationRecord record)
    {
        var temp = path + ".state.tmp";
        QuantState.Save(model, temp, Array.Empty<string>(), "final");
        var state = Safetensors.Read(temp);
        File.Delete(temp);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "qdm-quantized-model",
            ["version"] = "0",
            ["record"] = JsonSerializer.Serialize(record),
        };
        Safetensors.Write(path, state.Tensors, metadata);
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
