using Qdm.Diffusion;
using Qdm.Export;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Cli;

public class ExportCliTests : TempFolder
{
    private static Dictionary<string, string> Metadata(string onnxPath) =>
        Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(onnxPath)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);

    [Fact]
    public void Export_writes_a_checkpoint_as_fp32_and_a_qdm_file_as_qdq_with_their_metadata()
    {
        var model = ModelFactory.Create(CheckpointLoadingTests.TinyDdpm);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: new Generator(4)) * 0.05);
        var checkpoint = Path.Combine(dir, "tiny.safetensors");
        Qdm.IO.Safetensors.Write(checkpoint, model.state_dict());
        var q = Quantization.Quantize(model, new PlacementConfig { Kind = PlacementKind.Ptq4dm });
        using (no_grad())
        using (q.Observe()) q.Network.call(randn(2, 3, 16, 16), tensor(new float[] { 5, 900 })).Dispose();
        var qdm = Path.Combine(dir, "tiny.qdm");
        CompactModelFile.Save(qdm, q, DiffusionConfig.DdpmLinear1000, new Dictionary<string, string> { ["source"] = "tiny.safetensors" });

        var fp = QdmProcess.Run("export", "--model", checkpoint, "--image-size", "16", "--out", Path.Combine(dir, "fp.onnx"));
        Assert.True(fp.ExitCode == 0, fp.Stderr + fp.Stdout);
        Assert.Contains("0 QuantizeLinear", fp.Stdout);
        Assert.Equal("none (FP32)", Metadata(Path.Combine(dir, "fp.onnx"))["qdm.quantization"]);

        var quantized = QdmProcess.Run("export", "--model", qdm, "--out", Path.Combine(dir, "q.onnx"));
        Assert.True(quantized.ExitCode == 0, quantized.Stderr + quantized.Stdout);
        Assert.Contains("session.disable_quant_qdq = 1", quantized.Stdout);
        var meta = Metadata(Path.Combine(dir, "q.onnx"));
        Assert.Equal(q.Config.Describe(), meta["qdm.quantization"]);
        Assert.Contains("quantized from tiny.safetensors", meta["qdm.source"]);
    }

    [Theory]
    [InlineData("missing.qdm", "out.onnx", "not found")]
    [InlineData(null, "out.txt", "must end in .onnx")]
    public void Export_names_the_bad_argument_in_one_line_and_fails(string? model, string output, string expected)
    {
        var args = new List<string> { "export", "--out", Path.Combine(dir, output) };
        if (model is not null) args.AddRange(new[] { "--model", Path.Combine(dir, model) });
        var result = QdmProcess.Run(args.ToArray());
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(expected, result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }
}
