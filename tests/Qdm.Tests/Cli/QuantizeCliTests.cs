using Qdm.Models;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Cli;

public class QuantizeCliTests : TempFolder
{
    [Theory]
    [InlineData("ptq4dm")]
    [InlineData("di2n")]
    [InlineData("int8")]
    public void Quantize_writes_a_quantized_model_with_its_provenance_and_resumes_from_its_work_folder(string method)
    {
        var model = ModelFactory.Create(CheckpointLoadingTests.TinyIddpm);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: new Generator(4)) * 0.05);
        var path = Path.Combine(dir, "tiny.safetensors");
        Qdm.IO.Safetensors.Write(path, model.state_dict());
        var outPath = Path.Combine(dir, "tiny.qdm");
        string[] args = { "quantize", "--model", path, "--image-size", "16", "--num-heads", "2", "--method", method,
            "--calib-samples", "8", "--calib-steps", "3", "--iters", "2", "--recon-batch", "4", "--eval-images", "1", "--out", outPath };

        var first = QdmProcess.Run(args);
        Assert.True(first.ExitCode == 0, first.Stderr + first.Stdout);
        var file = Qdm.IO.Safetensors.Read(outPath);
        Assert.Equal("qdm-compact-model", file.Metadata["format"]);
        Assert.Contains(method == "ptq4dm" ? "\"Kind\":0" : "\"SplitTimeEmbedding\":true", file.Metadata["placement"]);
        if (method == "int8")   // every part of the preset reaches the file, the architecture's own first conv excluded
        {
            Assert.Contains("\"IntegerKernels\":true", file.Metadata["placement"]);
            Assert.Contains("\"Exclude\":[\"^input_blocks\\\\.0\\\\.0$\"]", file.Metadata["placement"]);
            Assert.Equal("true", file.Metadata["bias_correction"]);
        }
        Assert.Contains(file.Tensors.Keys, k => k.EndsWith("/int"));   // integer weights (AdaRound decisions applied)

        // It samples without calibration data or the FP checkpoint, in both engines.
        File.Delete(path);
        foreach (var backend in new[] { "torchsharp", "ort" })
        {
            var sampled = QdmProcess.Run("sample", "--model", outPath, "--backend", backend, "--n", "2", "--batch", "2", "--steps", "2", "--no-png",
                "--agreement", "1", "--out", Path.Combine(dir, "samples-" + backend));
            Assert.True(sampled.ExitCode == 0, sampled.Stderr + sampled.Stdout);
            // Only an integer-kernel model on a CPU without VNNI gets the note about ORT's slower u8×u8 kernels.
            bool noted = sampled.Stdout.Contains("this CPU has no VNNI");
            Assert.Equal(backend == "ort" && method == "int8" && Qdm.Workflows.CpuDescription.HasVnni() == false, noted);
            if (backend == "ort")   // per-step ORT-vs-simulated error, one row per step, small against the output's own size
            {
                var rows = sampled.Stdout.Split('\n').Where(l => l.StartsWith("│ ") && !l.Contains("step")).ToList();
                Assert.Equal(2, rows.Count);
                Assert.All(rows, row => Assert.InRange(double.Parse(row.Split('│', StringSplitOptions.TrimEntries)[4], System.Globalization.CultureInfo.InvariantCulture), 0, 0.1));
            }
        }
        Assert.True(File.Exists(Path.Combine(outPath + ".work", "calibration_timesteps.png")));
        Assert.Contains("mean relative output MSE", first.Stdout);
        // Each stage's time, and together no more than the whole run (which adds loading and saving).
        var flat = System.Text.RegularExpressions.Regex.Replace(first.Stdout, @"\s+", " ");
        var timing = System.Text.RegularExpressions.Regex.Match(flat,
            @"in (\d+) s \(whole run, this process; calibration data ([\d.]+) s, weight and activation ranges ([\d.]+) s, per-step error ([\d.]+) s, reconstruction ([\d.]+) s");
        Assert.True(timing.Success, flat);
        var stages = Enumerable.Range(2, 4).Select(i => double.Parse(timing.Groups[i].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(stages.Sum() <= double.Parse(timing.Groups[1].Value) + 1, $"stages {string.Join(", ", stages)} vs whole run {timing.Groups[1].Value} s");
        Assert.True(stages[3] > 0, "two reconstruction iterations per unit take measurable time");

        Qdm.IO.Safetensors.Write(path, model.state_dict());   // the resumed run needs its checkpoint again
        var again = QdmProcess.Run(args);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("reusing", again.Stdout);
        Assert.Contains("resumed", again.Stdout);
    }
}
