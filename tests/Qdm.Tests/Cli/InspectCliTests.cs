using Qdm.Models;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Cli;

public class InspectCliTests : TempFolder
{
    [Fact]
    public void Inspect_writes_a_row_per_quantizer_a_per_step_error_table_and_the_range_plot()
    {
        var model = ModelFactory.Create(CheckpointLoadingTests.TinyDdpm);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: new Generator(4)) * 0.05);
        var path = Path.Combine(dir, "tiny.safetensors");
        Qdm.IO.Safetensors.Write(path, model.state_dict());

        var outDir = Path.Combine(dir, "inspect");
        var r = QdmProcess.Run("inspect", "--model", path, "--image-size", "16", "--calib-images", "2", "--eval-images", "1",
            "--steps", "3", "--w-bits", "4", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        var rows = File.ReadAllLines(Path.Combine(outDir, "quantizers.csv"));
        var q = Qdm.Placement.Quantization.Quantize(ModelFactory.Create(CheckpointLoadingTests.TinyDdpm), new Qdm.Placement.PlacementConfig());
        Assert.Equal(q.Entries.Count + 1, rows.Length);   // header + one row per quantizer
        // ddim's uniform skip with 3 steps over T = 1000 visits range(0, 1000, 333): 4 steps.
        int steps = Qdm.Diffusion.Respacing.Uniform(1000, 3).Length;
        Assert.Equal(1 + steps, File.ReadAllLines(Path.Combine(outDir, "per_step_error.csv")).Length);
        Assert.True(new FileInfo(Path.Combine(outDir, "activation_ranges.png")).Length > 1000);
        Assert.Contains("mean output MSE", r.Stdout);
        Assert.StartsWith("step,t,mse,relative_mse,offset_share,offset_c0,offset_c1,offset_c2", File.ReadAllLines(Path.Combine(outDir, "per_step_error.csv"))[0]);

        var corrected = QdmProcess.Run("inspect", "--model", path, "--image-size", "16", "--calib-images", "2", "--eval-images", "1",
            "--steps", "3", "--w-bits", "4", "--bias-correction", "--out", Path.Combine(dir, "inspect-bc"));
        Assert.True(corrected.ExitCode == 0, corrected.Stderr + corrected.Stdout);
        // Every quantized conv/linear of the tiny DDPM has a bias, so every one is corrected.
        int layers = q.Network.modules().OfType<Qdm.Quant.QuantLayer>().Count();
        Assert.Contains($"bias correction {layers} layers corrected", corrected.Stdout.Replace("\n", " "));
    }
}
