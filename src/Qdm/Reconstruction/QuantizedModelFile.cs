using System.Security.Cryptography;
using System.Text.Json;
using Qdm.IO;
using Qdm.Placement;

namespace Qdm.Reconstruction;

/// <summary>What produced a quantized model: kept in its file so results can be traced and the model rebuilt.</summary>
public sealed record QuantizationRecord(string Source, string SourcePath, string SourceSha256, int ImageSize, int NumHeads, string Architecture, string Diffusion, PlacementConfig Placement,
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

    /// <summary>
    /// Rebuilds a quantized model: the FP checkpoint it names (or the one given, checked by sha256), the recorded placement,
    /// then every saved step size, zero point and rounding decision. No calibration data is needed.
    /// </summary>
    public static (Sampling.DiffusionModel Model, QuantizedUNet Quantized, QuantizationRecord Record) Load(string path, string? checkpoint = null)
    {
        if (!File.Exists(path)) throw new QdmInputException($"quantized model not found: {path}");
        var content = Safetensors.Read(path);
        if (content.Metadata.GetValueOrDefault("format") != "qdm-quantized-model")
            throw new QdmInputException($"{path} is not a Qdm quantized model (made by qdm quantize).");
        var record = JsonSerializer.Deserialize<QuantizationRecord>(content.Metadata["record"])
            ?? throw new QdmInputException($"{path}: unreadable record.");
        var source = checkpoint ?? record.SourcePath;
        if (!File.Exists(source) && !Directory.Exists(source))
            throw new QdmInputException($"{path} needs its FP checkpoint {record.SourcePath}; pass it with --source.");
        if (File.Exists(source) && Sha256(source) != record.SourceSha256)
            throw new QdmInputException($"{source} is not the checkpoint {path} was quantized from (sha256 differs).");
        var model = Sampling.ModelLoader.Load(new Sampling.ModelLoadOptions(source) { ImageSize = record.ImageSize, NumHeads = record.NumHeads });
        if (model.Config.Describe() != record.Architecture)
            throw new QdmInputException($"{source} loads as {model.Config.Describe()}, but {path} was made for {record.Architecture}.");
        var quantized = Quantization.Quantize(model.Network, record.Placement);
        QuantState.Apply(quantized, content.Tensors);
        return (model, quantized, record);
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
