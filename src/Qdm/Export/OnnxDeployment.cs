using Onnx;
using Qdm.Diffusion;
using Qdm.Models;

namespace Qdm.Export;

/// <summary>
/// A U-Net as a self-describing ONNX file for other runtimes: the exported graph plus metadata properties that say what
/// to feed it, which diffusion it belongs to, and the ONNX Runtime session settings Qdm itself opens it with.
/// </summary>
public static class OnnxDeployment
{
    public const string MetadataPrefix = "qdm.";

    public static ModelProto Build(DiffusionUNet network, DiffusionConfig diffusion, string source, string quantization)
    {
        var model = UNetOnnxExporter.Export(network);
        var config = network.Config;
        var properties = new Dictionary<string, string>
        {
            ["source"] = source,
            ["architecture"] = config.Describe(),
            ["diffusion"] = diffusion.Describe(),
            ["quantization"] = quantization,
            ["input.x"] = $"float32 [N, {config.InChannels}, {config.ImageSize}, {config.ImageSize}]: x_t, images scaled to [-1, 1]",
            ["input.t"] = "float32 [N]: the time step fed to the network" +
                          (diffusion.RescaleTimesteps ? $", t·1000/{diffusion.Steps} (improved-diffusion's rescale_timesteps)" : ", 0..T-1"),
            ["output"] = $"float32 [N, {config.OutChannels}, {config.ImageSize}, {config.ImageSize}]: predicted noise" +
                         (config.OutChannels > config.InChannels ? ", then the variance interpolation values" : ""),
            ["ort_session_config"] = Joined(SessionConfig(network, cpuHasVnni: true)),
            ["ort_session_config_without_vnni"] = Joined(SessionConfig(network, cpuHasVnni: false)),
        };
        foreach (var (key, value) in properties)
            model.MetadataProps.Add(new StringStringEntryProto { Key = MetadataPrefix + key, Value = value });
        return model;
    }

    /// <summary>
    /// The session config entries that run the graph as Qdm does (see <see cref="OrtUNet"/>): integer-kernel models fused
    /// (on x64 CPUs without VNNI with u8×u8 kernels where u8×s8 sums would saturate), other quantized models with Q/DQ as
    /// float ops; none for FP32 graphs (no Q/DQ to treat). The file stores both lists: `ort_session_config` for VNNI CPUs
    /// (and other architectures), `ort_session_config_without_vnni` for x64 CPUs without it.
    /// </summary>
    public static IReadOnlyDictionary<string, string> SessionConfig(DiffusionUNet network, bool cpuHasVnni)
    {
        bool quantized = network.modules().OfType<Quant.QuantLayer>().Any();
        return quantized ? OrtUNet.SessionEntries(OrtUNet.FusesIntoIntegerKernels(network), cpuHasVnni) : new Dictionary<string, string>();
    }

    private static string Joined(IReadOnlyDictionary<string, string> entries) => string.Join(";", entries.Select(p => $"{p.Key}={p.Value}"));
}
