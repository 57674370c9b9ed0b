using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Qdm.Diffusion;
using Qdm.Export;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Export;

public class OnnxDeploymentTests : TempFolder
{
    private static DiffusionUNet Randomised(UNetConfig config)
    {
        var model = ModelFactory.Create(config);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: new Generator(3)) * 0.1);
        return model;
    }

    private static readonly Tensor X = randn(new long[] { 2, 3, 16, 16 }, generator: new Generator(8));
    private static readonly Tensor T = tensor(new float[] { 20, 700 });

    private static Dictionary<string, string> Metadata(Onnx.ModelProto model) =>
        model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Opens the saved file the way another program would: from disk, with the session config its metadata names for this CPU.</summary>
    private static float[] RunFromFile(string path, bool cpuHasVnni)
    {
        var meta = Metadata(Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)));
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        foreach (var entry in meta[cpuHasVnni ? "qdm.ort_session_config" : "qdm.ort_session_config_without_vnni"].Split(';', StringSplitOptions.RemoveEmptyEntries))
            options.AddSessionConfigEntry(entry.Split('=')[0], entry.Split('=')[1]);
        using var session = new InferenceSession(path, options);
        var inputs = new[]
        {
            NamedOnnxValue.CreateFromTensor("x", new DenseTensor(X.data<float>().ToArray(), X.shape.Select(d => (int)d).ToArray())),
            NamedOnnxValue.CreateFromTensor("t", new DenseTensor(T.data<float>().ToArray(), new[] { 2 })),
        };
        using var outputs = session.Run(inputs);
        return outputs.Single().AsEnumerable<float>().ToArray();
    }

    [Fact]
    public void An_fp32_file_describes_its_inputs_and_diffusion_and_runs_from_disk_like_the_model()
    {
        var network = Randomised(CheckpointLoadingTests.TinyDdpm);
        var onnx = OnnxDeployment.Build(network, DiffusionConfig.DdpmLinear1000, "tiny.safetensors", "none (FP32)");
        var meta = Metadata(onnx);
        Assert.Equal("", meta["qdm.ort_session_config"]);
        Assert.Equal("", meta["qdm.ort_session_config_without_vnni"]);
        Assert.Equal(DiffusionConfig.DdpmLinear1000.Describe(), meta["qdm.diffusion"]);
        Assert.Equal(network.Config.Describe(), meta["qdm.architecture"]);
        Assert.Contains("0..T-1", meta["qdm.input.t"]);
        Assert.Equal("tiny.safetensors", meta["qdm.source"]);

        var path = Path.Combine(dir, "fp.onnx");
        UNetOnnxExporter.Save(onnx, path);
        using var _ = no_grad();
        var expected = network.call(X, T).data<float>().ToArray();
        var actual = RunFromFile(path, cpuHasVnni: false);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max() < 1e-4);
    }

    [Theory]
    [InlineData(false, "session.disable_quant_qdq=1", "session.disable_quant_qdq=1")]
    [InlineData(true, "", "session.x64quantprecision=1")]   // u8×u8 kernels only where AVX2's u8×s8 sums saturate
    public void A_quantized_file_carries_the_session_config_that_makes_it_run_exactly_as_qdm_runs_it(bool integerKernels, string withVnni, string withoutVnni)
    {
        var q = Quantization.Quantize(Randomised(CheckpointLoadingTests.TinyIddpm),
            new PlacementConfig { Kind = PlacementKind.Full, SplitTimeEmbedding = true, IntegerKernels = integerKernels });
        using (no_grad())
        using (q.Observe()) q.Network.call(X, T).Dispose();
        var onnx = OnnxDeployment.Build(q.Network, DiffusionConfig.IddpmCosine4000, "tiny.qdm", q.Config.Describe());
        var meta = Metadata(onnx);
        Assert.Equal(withVnni, meta["qdm.ort_session_config"]);
        Assert.Equal(withoutVnni, meta["qdm.ort_session_config_without_vnni"]);
        Assert.Contains("t·1000/4000", meta["qdm.input.t"]);                  // improved-diffusion's rescaled time steps
        Assert.Contains("variance interpolation", meta["qdm.output"]);       // learned-sigma output channels
        Assert.Equal(q.Config.Describe(), meta["qdm.quantization"]);

        var path = Path.Combine(dir, "q.onnx");
        UNetOnnxExporter.Save(onnx, path);
        using var _ = no_grad();
        foreach (bool vnni in new[] { false, true })   // both lists run on any x64 CPU; each must match qdm's session for that CPU kind
        {
            using var ort = OrtUNet.Open(q.Network, threads: 1, cpuHasVnni: vnni);   // how qdm sample --backend ort runs it
            var qdm = ort.Forward(X, T).data<float>().ToArray();
            Assert.Equal(qdm, RunFromFile(path, vnni));                              // same graph, same options: bit-identical
        }
    }
}
