using System.Globalization;
using Qdm.Tests.Support;

namespace Qdm.Tests.Cli;

/// <summary>qdm reproduce end to end on the real ch32 CIFAR-10 model at a tiny scale.</summary>
public class ReproduceCliTests : TempFolder
{
    [SkippableFact]
    public void Reproduce_writes_every_row_and_column_with_pipeline_numbers_and_resumes()
    {
        var model = SharedAssets.Require("models/ddpm_cifar10_ch32_ema.ckpt");
        var reference = SharedAssets.Require("data/cifar10/cifar10-test-first1017.bin");
        var outDir = Path.Combine(dir, "run");
        string[] args = { "reproduce", "--model", model, "--samples", "6", "--steps", "2", "--calib-samples", "8", "--iters", "0", "--batch", "6",
            "--ref-images", reference, "--ref-limit", "32", "--bootstrap", "5", "--out", outDir };
        var run = QdmProcess.Run(TimeSpan.FromMinutes(30), args);   // ten quantizations and eleven sample sets: minutes alone, far more on a busy 2-core machine
        Assert.True(run.ExitCode == 0, run.Stderr + run.Stdout);

        var table = File.ReadAllLines(Path.Combine(outDir, "report.md")).Where(l => l.StartsWith("| ")).ToList();
        var header = Cells(table[0]);
        foreach (var column in new[] { "FD-R18", "sFD-R18", "KID-R18", "precision", "recall", "FD vs FP samples (FD-R18)", "mean abs. pixel Δ vs FP", "mean pixel shift vs FP (per channel)", "quantize time", "file size", "samples" })
            Assert.Contains(column, header);
        var rows = table.Where(l => !l.StartsWith("| method")).Select(Cells).ToList();
        var labels = rows.Select(r => $"{r[0]} {r[1]}").ToList();
        foreach (var expected in new[] { "FP32 FP32", "PTQ4DM W8A8", "DI2N W8A8", "PTQ4DM W4A8", "DI2N W4A8", "full placement, uniform time steps W8A8",
                     "full placement, normal time steps (NDTC) W8A8", "+ DI2N calibration pipeline W8A8", "+ quantization order (full placement) W8A8", "+ split time embedding (= DI2N) W8A8",
                     "DI2N with conv_in left in FP (its input is x_t) W8A8",
                     "PTQ4DM + bias correction W8A8", "DI2N + bias correction W8A8",
                     "DI2N in int8 kernels + bias correction, conv_in and softmax probabilities FP W8A8" })
            Assert.Contains(expected, labels);
        Assert.Contains("not applicable", rows.Single(r => r[0].StartsWith("+ split")).ElementAt(2));

        // Every measured row has finite numbers in every metric column.
        foreach (var row in rows.Where(r => !r[0].StartsWith("+ split")))
            foreach (var column in new[] { "FD-R18", "sFD-R18", "KID-R18", "FD vs FP samples (FD-R18)" })
                Assert.True(double.IsFinite(Number(row[header.IndexOf(column)])), $"{row[0]} {row[1]}: {column} = {row[header.IndexOf(column)]}");
        var fpRow = rows.Single(r => r[0] == "FP32");
        var reading = File.ReadAllLines(Path.Combine(outDir, "report.md")).SkipWhile(l => l != "## Reading").TakeWhile(l => !l.StartsWith("## Fig")).ToList();
        Assert.Contains(reading, l => l.StartsWith("- W8A8, FD-R18: DI2N") && l.Contains("sampling noise of this gap ±"));
        Assert.Contains(reading, l => l.StartsWith("- Ablation, FD-R18: PTQ4DM"));
        Assert.Equal(0, Number(fpRow[header.IndexOf("FD vs FP samples (FD-R18)")]), 6);
        Assert.Equal("6", fpRow[header.IndexOf("samples")]);
        Assert.Equal("0.0 / 0.0 / 0.0", fpRow[header.IndexOf("mean pixel shift vs FP (per channel)")]);
        // A cast is part of the change: the mean over channels of |mean signed Δ| cannot exceed the mean |Δ|.
        foreach (var row in rows.Where(r => r[0] != "FP32" && !r[0].StartsWith("+ split")))
        {
            var shifts = row[header.IndexOf("mean pixel shift vs FP (per channel)")].Split(" / ").Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(3, shifts.Count);
            Assert.True(shifts.Average(Math.Abs) <= Number(row[header.IndexOf("mean abs. pixel Δ vs FP")]) + 0.06, $"{row[0]} {row[1]}: shifts {string.Join(", ", shifts)}");
        }

        // The FP row is what `qdm eval` says about the same samples and reference statistics.
        var eval = QdmProcess.Run("eval", "--features", "r18", "--samples", Path.Combine(outDir, "samples", "fp", "samples.npz"),
            "--ref", Path.Combine(outDir, "reference.r18.npz"));
        Assert.True(eval.ExitCode == 0, eval.Stderr + eval.Stdout);
        var evalFd = eval.Stdout.Split('\n').Single(l => l.Contains("│ FD-R18 ")).Split('│', StringSplitOptions.TrimEntries)[2];
        Assert.Equal(double.Parse(evalFd, CultureInfo.InvariantCulture), Number(fpRow[header.IndexOf("FD-R18")]), 2);

        // A second run reuses every quantized model, sample batch and metric.
        var again = QdmProcess.Run(TimeSpan.FromMinutes(5), args);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("quantized model reused", again.Stdout);
        Assert.DoesNotContain("features of", again.Stdout);
        // A row whose settings changed is quantized again, and its old samples and metrics are not reused.
        var record = Path.Combine(outDir, "quant", "di2n-fp-input-w8a8-s0.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(record))!;
        node["Settings"] = "settings of an earlier version";
        File.WriteAllText(record, node.ToJsonString());
        // --only leaves every other row alone, stale or not.
        var only = QdmProcess.Run(TimeSpan.FromMinutes(5), args.Append("--only").Append("ptq4dm-w8a8-s0").ToArray());
        Assert.True(only.ExitCode == 0, only.Stderr + only.Stdout);
        Assert.Contains("only fp, ptq4dm-w8a8-s0 (--only)", only.Stdout);
        Assert.DoesNotContain("di2n-fp-input-w8a8-s0: settings changed", only.Stdout);
        var changed = QdmProcess.Run(TimeSpan.FromMinutes(5), args);
        Assert.True(changed.ExitCode == 0, changed.Stderr + changed.Stdout);
        Assert.Contains("di2n-fp-input-w8a8-s0: settings changed since the last run", changed.Stdout);
        Assert.Contains("di2n-fp-input-w8a8-s0 FD-R18 features of", changed.Stdout);
        Assert.DoesNotContain("di2n-w8a8-s0 FD-R18 features of", changed.Stdout);

        // A metrics record from before a figure existed gets it added, equal to what a fresh measurement gives.
        var metricsPath = Path.Combine(outDir, "eval", "ptq4dm-w8a8-s0.r18.json");
        var fresh = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metricsPath))!.AsObject();
        var added = new[] { "BootstrapFd", "PixelShiftVsFp", "PixelDeltaVsFpStd", "FdMeanTerm", "FeatureShiftVsFp", "FeatureShiftTowardData", "FdCastRemoved", "BootstrapFdCastRemoved" };
        var old = fresh.DeepClone().AsObject();
        foreach (var name in added) { Assert.NotNull(fresh[name]); old.Remove(name); }
        File.WriteAllText(metricsPath, old.ToJsonString());

        var reportOnly = QdmProcess.Run(TimeSpan.FromMinutes(5), args.Append("--report-only").ToArray());
        Assert.True(reportOnly.ExitCode == 0, reportOnly.Stderr);
        var backfilled = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(metricsPath))!.AsObject();
        foreach (var name in added)
        {
            var (want, got) = (Numbers(fresh[name]!), Numbers(backfilled[name]!));
            Assert.Equal(want.Count, got.Count);
            for (int i = 0; i < want.Count; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-6 * Math.Max(1, Math.Abs(want[i])), $"{name}[{i}]: {want[i]} vs {got[i]}");
        }
        Assert.DoesNotContain("quantize", reportOnly.Stdout);
        Assert.Contains(File.ReadAllLines(Path.Combine(outDir, "report.md")), l => l.StartsWith("| FP32 |") && l.Contains(fpRow[header.IndexOf("FD-R18")]));
        Assert.True(File.Exists(Path.Combine(outDir, "figures", "samples_side_by_side.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "figures", "metric_by_method.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "figures", "step_error.png")));

        // A fresh checkout of committed results (records and finished sample sets, no .qdm files or calibration sets)
        // resumes without quantizing or sampling anything, and reports the same table.
        var tableBefore = File.ReadAllLines(Path.Combine(outDir, "report.md")).Where(l => l.StartsWith("| ")).ToList();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(outDir, "quant"), "*.qdm")) File.Delete(file);
        Directory.Delete(Path.Combine(outDir, "calibration"), recursive: true);
        var fromCommitted = QdmProcess.Run(TimeSpan.FromMinutes(5), args);
        Assert.True(fromCommitted.ExitCode == 0, fromCommitted.Stderr + fromCommitted.Stdout);
        Assert.Contains("not quantized again", fromCommitted.Stdout);
        Assert.DoesNotContain(" quantize: ", fromCommitted.Stdout);
        Assert.DoesNotContain("sampling", fromCommitted.Stdout);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(outDir, "quant"), "*.qdm"));
        Assert.Equal(tableBefore, File.ReadAllLines(Path.Combine(outDir, "report.md")).Where(l => l.StartsWith("| ")).ToList());
    }

    private static List<double> Numbers(System.Text.Json.Nodes.JsonNode node) =>
        node is System.Text.Json.Nodes.JsonArray array ? array.Select(v => v!.GetValue<double>()).ToList() : new List<double> { node.GetValue<double>() };

    private static List<string> Cells(string line) => line.Trim('|').Split('|').Select(c => c.Trim()).ToList();

    private static double Number(string cell) => double.Parse(cell.Split(' ')[0], CultureInfo.InvariantCulture);
}
