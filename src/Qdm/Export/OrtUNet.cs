using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using Qdm.Models;
using Qdm.Quant;
using static TorchSharp.torch;

namespace Qdm.Export;

/// <summary>
/// An exported U-Net run by ONNX Runtime, with the same contract as the TorchSharp model: output = model(x, t).
/// Forward may be called from several threads at once (ORT sessions are thread-safe); each call then also uses
/// the session's intra-op threads.
/// </summary>
public sealed class OrtUNet : IDisposable
{
    private readonly InferenceSession session;
    private readonly long outChannels;

    /// <param name="fuseQdq">True: ORT fuses complete QuantizeLinear/DequantizeLinear groups into int8 kernels (QLinearConv, QGemm).
    /// False: Q/DQ run as float element-wise ops and the weights' DequantizeLinear is folded into float constants, so
    /// convolutions keep ORT's blocked FP32 kernels; the function computed is the simulation's, op for op.</param>
    public OrtUNet(ModelProto model, int threads, string? optimizedModelPath = null, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL,
        string? profilePrefix = null, bool fuseQdq = true, bool cpuHasVnni = false)
    {
        var options = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
            GraphOptimizationLevel = level,
        };
        foreach (var (key, value) in SessionEntries(fuseQdq, cpuHasVnni)) options.AddSessionConfigEntry(key, value);
        if (optimizedModelPath is not null) options.OptimizedModelFilePath = optimizedModelPath;
        if (profilePrefix is not null)
        {
            options.ProfileOutputPathPrefix = profilePrefix;   // before enabling: the setter passes the current prefix to ORT
            options.EnableProfiling = true;
        }
        session = new InferenceSession(model.ToByteArray(), options);
        outChannels = model.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue;
    }

    /// <summary>
    /// Exports a network and opens it the way that runs it fastest with the same function: fused int8 kernels when its
    /// placement is the integer-kernel form (every layer output quantized, int32 biases: ORT finds complete QDQ groups);
    /// otherwise float Q/DQ, because with an unquantized output no convolution can fuse and ORT would run them unblocked
    /// with weights dequantized on every call (`qdm bench engines`, ch64: full placement 32.4 ms/img fused vs 24.6 unfused, ORT FP32 19.0).
    /// </summary>
    public static OrtUNet Open(DiffusionUNet network, int threads, bool cpuHasVnni) =>
        new(UNetOnnxExporter.Export(network), threads, fuseQdq: FusesIntoIntegerKernels(network), cpuHasVnni: cpuHasVnni);

    /// <summary>The session config entries for a graph opened with or without QDQ fusion, on a CPU with or without VNNI.</summary>
    public static IReadOnlyDictionary<string, string> SessionEntries(bool fuseQdq, bool cpuHasVnni) =>
        !fuseQdq ? new Dictionary<string, string> { ["session.disable_quant_qdq"] = "1" }
        // x64 CPUs without VNNI (AVX2, e.g. Zen 3) run u8×s8 products through pmaddubsw, whose int16 pair sums saturate
        // (255·127·2 > 32767): the fused model then drifts from the simulation (OnnxExportTests: 1.28× the quantization
        // noise). This option makes ORT use u8×u8 kernels there for weights outside [-64, 63]. VNNI sums into int32 and
        // needs no fix; there the option costs speed (ORT 1.30, Xeon with AVX-512 VNNI: 40.6 vs 19.3 ms/img, 1 thread).
        : cpuHasVnni ? new Dictionary<string, string>()
        : new Dictionary<string, string> { ["session.x64quantprecision"] = "1" };

    /// <summary>True when the network is quantized in the integer-kernel form (layer outputs quantized, int32 biases).</summary>
    public static bool FusesIntoIntegerKernels(DiffusionUNet network) =>
        network.modules().OfType<QuantLayer>().Any(l => l.IntegerBias && l.OutputQuantizer is not null);

    public Tensor Forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        var xc = x.to(ScalarType.Float32).contiguous();
        var tc = t.to(ScalarType.Float32).contiguous();
        using var xValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float,
            xc.shape, Address(xc), xc.numel() * sizeof(float));
        using var tValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float,
            tc.shape, Address(tc), tc.numel() * sizeof(float));
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { UNetOnnxExporter.InputX, UNetOnnxExporter.InputT }, new[] { xValue, tValue },
            new[] { UNetOnnxExporter.Output });
        var result = empty(new[] { x.shape[0], outChannels, x.shape[2], x.shape[3] }, ScalarType.Float32);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(outputs[0].GetTensorDataAsSpan<float>()).CopyTo(result.bytes);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Stops profiling (sessions made with a profile prefix) and returns the path of ORT's JSON trace.</summary>
    public string EndProfiling() => session.EndProfiling();

    /// <summary>Milliseconds per operator type in an ORT profile trace (node events only), largest first.</summary>
    public static IReadOnlyList<(string OpType, double Milliseconds, int Calls)> SummariseProfile(string tracePath)
    {
        using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tracePath));
        var totals = new Dictionary<string, (double Ms, int Calls)>();
        foreach (var e in document.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node" || !e.TryGetProperty("args", out var args) || !args.TryGetProperty("op_name", out var op)) continue;
            if (!e.GetProperty("name").GetString()!.EndsWith("_kernel_time")) continue;
            var key = op.GetString()!;
            var (ms, calls) = totals.GetValueOrDefault(key);
            totals[key] = (ms + e.GetProperty("dur").GetDouble() / 1000, calls + 1);
        }
        return totals.Select(kv => (kv.Key, kv.Value.Ms, kv.Value.Calls)).OrderByDescending(x => x.Ms).ToList();
    }

    private static unsafe IntPtr Address(Tensor t)
    {
        fixed (byte* p = t.bytes) return (IntPtr)p;
    }

    public void Dispose() => session.Dispose();
}
