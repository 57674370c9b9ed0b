using System.Globalization;
using System.Text;

namespace Qdm.Workflows;

/// <summary>What the report says about the run besides the measurements.</summary>
public sealed record ReportContext
{
    public required string Model { get; init; }
    public required ReproductionScale Scale { get; init; }
    public required string Engine { get; init; }
    public required string Machine { get; init; }
    /// <summary>Per feature network (e.g. "ResNet-18"): the reference set the metrics compare with, or null if none was given.</summary>
    public required IReadOnlyDictionary<string, string?> References { get; init; }
    public double WallSeconds { get; init; }
    /// <summary>Figures as (file name relative to the report, caption).</summary>
    public IReadOnlyList<(string File, string Caption)> Figures { get; init; } = Array.Empty<(string, string)>();
}

/// <summary>Writes report.md: the tables (seeds aggregated as mean ± std), an automatic reading of them, and the figures.</summary>
public static class ReproductionReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A printed line of a table: rows of one section, method and bit width (the calibration seeds) together.</summary>
    public sealed record Line(ReproductionSection Section, string Label, string Bits, IReadOnlyList<ReproductionRow> Rows);

    public static IReadOnlyList<Line> Lines(IReadOnlyList<ReproductionRow> rows) =>
        rows.GroupBy(r => (r.Section, r.Label, r.Bits))
            .Select(g => new Line(g.Key.Section, g.Key.Label, g.Key.Bits, g.ToList())).ToList();

    public static string Markdown(IReadOnlyList<ReproductionRow> rows, IReadOnlyDictionary<string, RowResults> results, ReportContext context)
    {
        var networks = results.Values.SelectMany(r => r.Metrics).Select(m => (m.Network, m.PooledMetric, m.SpatialMetric)).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine("# Qdm reproduction report").AppendLine();
        text.AppendLine($"- model: {context.Model}");
        text.AppendLine($"- scale: {context.Scale.Describe()}; sampling seed {context.Scale.SampleSeed} (every row uses the same initial noise)");
        text.AppendLine($"- sampling engine: {context.Engine}");
        text.AppendLine($"- machine: {context.Machine}; whole command {Duration(context.WallSeconds)} this run (stages already done were reused)");
        foreach (var (network, reference) in context.References)
            text.AppendLine($"- {network} reference: {reference ?? "none given (--ref); the distribution columns are empty, the paired columns compare with the FP samples"}");
        text.AppendLine("- reconstruction for every quantized row: PTQ4DM's recipe (QDrop p 0.5, rounding weight 0.01) at the iterations above; only the named part differs between rows");
        text.AppendLine("- quantize time: that row's wall time; a calibration set shared by several rows is paid by the first row that built it (e.g. PTQ4DM's NDTC trajectories), so later rows look cheaper");
        text.AppendLine();

        foreach (var section in Enum.GetValues<ReproductionSection>())
        {
            var lines = Lines(rows).Where(l => l.Section == section).ToList();
            if (lines.Count == 0) continue;
            text.AppendLine($"## {SectionTitle(section)}").AppendLine();
            var header = new List<string> { "method", "bits", "calib. seeds" };
            foreach (var (network, pooled, spatial) in networks)
            {
                if (pooled == "FID") header.Add("IS");
                header.AddRange(new[] { pooled, spatial, pooled.Replace("FD", "KID"), "precision", "recall" });
            }
            header.AddRange(new[] { $"FD vs FP samples ({networks.FirstOrDefault().PooledMetric ?? "—"})", "mean abs. pixel Δ vs FP", "rel. output MSE vs FP, simulated (mean over steps)",
                "rel. MSE vs FP: ORT / simulated (ORT vs simulated)", "quantize time", "file size", "samples" });
            text.AppendLine("| " + string.Join(" | ", header) + " |");
            text.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", header.Count)));
            foreach (var line in lines) text.AppendLine("| " + string.Join(" | ", Cells(line, results, networks)) + " |");
            text.AppendLine();
        }

        text.AppendLine("## Reading").AppendLine();
        foreach (var sentence in Reading(rows, results, networks)) text.AppendLine($"- {sentence}");
        text.AppendLine();
        if (context.Figures.Count > 0)
        {
            text.AppendLine("## Figures").AppendLine();
            foreach (var (file, caption) in context.Figures) text.AppendLine($"**{caption}**").AppendLine().AppendLine($"![{caption}]({file})").AppendLine();
        }
        return text.ToString();
    }

    private static string SectionTitle(ReproductionSection section) => section switch
    {
        ReproductionSection.SeedTable => "Seed table: FP vs PTQ4DM vs DI2N",
        ReproductionSection.TimestepCalibration => "Time-step calibration under the same full quantization (the seed's first finding: normal was worse)",
        ReproductionSection.Ablation => "DI2N ablation: its parts added to PTQ4DM one at a time (W8A8)",
        _ => "Beyond the seed: DI2N without quantizing the network input x_t (qdm inspect puts most of the full placement's error there)",
    };

    private static IEnumerable<string> Cells(Line line, IReadOnlyDictionary<string, RowResults> results, IReadOnlyList<(string Network, string Pooled, string Spatial)> networks)
    {
        var applicable = line.Rows.Where(r => r.NotApplicable is null).ToList();
        yield return line.Label;
        yield return line.Bits;
        if (applicable.Count == 0)
        {
            yield return line.Rows[0].NotApplicable!;
            foreach (var _ in Enumerable.Range(0, networks.Sum(n => n.Pooled == "FID" ? 6 : 5) + 7)) yield return "";
            yield break;
        }
        var found = applicable.Select(r => results.GetValueOrDefault(r.Key)).ToList();
        yield return line.Rows[0].Job is null ? "—" : string.Join(", ", applicable.Select(r => r.CalibrationSeed));
        foreach (var (network, pooled, _) in networks)
        {
            var metrics = found.Select(f => f?.Metrics.FirstOrDefault(m => m.Network == network)).ToList();
            if (pooled == "FID") yield return Cell(metrics.Select(m => m?.InceptionScore), "F2");
            yield return Cell(metrics.Select(m => m?.Fd), "F2");
            yield return Cell(metrics.Select(m => m?.SpatialFd), "F2");
            yield return Cell(metrics.Select(m => m?.KidMean), "F4");
            yield return Cell(metrics.Select(m => m?.Precision), "F3");
            yield return Cell(metrics.Select(m => m?.Recall), "F3");
        }
        var first = networks.Count == 0 ? null : networks[0].Network;
        var firstMetrics = found.Select(f => f?.Metrics.FirstOrDefault(m => m.Network == first)).ToList();
        yield return Cell(firstMetrics.Select(m => m?.FdVsFp), "F2");
        yield return Cell(firstMetrics.Select(m => m?.PixelDeltaVsFp), "F2");
        yield return Cell(found.Select(f => f?.Quantization is { } q ? q.After.Average(s => s.Relative) : (double?)null), "E2");
        var agreements = found.Select(f => f?.Agreement).Where(a => a is not null).ToList();
        yield return agreements.Count == 0 ? "—"
            : $"{Mean(agreements, a => a.OrtVsFp)} / {Mean(agreements, a => a.SimulatedVsFp)} ({Mean(agreements, a => a.OrtVsSimulated)})";
        yield return Cell(found.Select(f => f?.Quantization?.Seconds), "F0", " s");
        yield return Cell(found.Select(f => f?.Quantization is { } q ? q.FileBytes / 1e6 : (double?)null), "F2", " MB");
        yield return Cell(firstMetrics.Select(m => m is null ? (double?)null : m.Samples), "F0");
    }

    private static string Mean(IEnumerable<AgreementRecord?> records, Func<AgreementRecord, IReadOnlyList<Reconstruction.StepError>> series) =>
        Format(records.Average(a => series(a!).Average(s => s.Relative)), "E2");

    /// <summary>One value, or mean ± sample std over calibration seeds; "—" where nothing was measured.</summary>
    public static string Cell(IEnumerable<double?> values, string format, string unit = "")
    {
        var v = values.Where(x => x is not null && double.IsFinite(x.Value)).Select(x => x!.Value).ToList();
        if (v.Count == 0) return "—";
        if (v.Count == 1) return Format(v[0], format) + unit;
        double mean = v.Average(), std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
        return $"{Format(mean, format)} ± {Format(std, format)}{unit}";
    }

    private static string Format(double value, string format) => value.ToString(format, Invariant);

    /// <summary>Plain statements computed from the table: orderings, and whether differences exceed the seed-to-seed spread.</summary>
    public static IReadOnlyList<string> Reading(IReadOnlyList<ReproductionRow> rows, IReadOnlyDictionary<string, RowResults> results,
        IReadOnlyList<(string Network, string Pooled, string Spatial)> networks)
    {
        var sentences = new List<string>();
        foreach (var (network, pooled, _) in networks.Take(1))
        {
            double[] Values(ReproductionSection section, string method, string bits, bool vsFp) => rows
                .Where(r => r.Section == section && r.Method == method && r.Bits == bits && r.NotApplicable is null)
                .Select(r => results.GetValueOrDefault(r.Key)?.Metrics.FirstOrDefault(m => m.Network == network))
                .Select(m => vsFp ? m?.FdVsFp : m?.Fd).Where(x => x is not null && double.IsFinite(x.Value)).Select(x => x!.Value).ToArray();
            bool haveReference = Values(ReproductionSection.SeedTable, "fp", "FP32", false).Length > 0;
            string metric = haveReference ? pooled : $"{pooled} vs the FP samples";
            foreach (var bits in new[] { "W8A8", "W4A8" })
            {
                var p = Values(ReproductionSection.SeedTable, "ptq4dm", bits, !haveReference);
                var d = Values(ReproductionSection.SeedTable, "di2n", bits, !haveReference);
                if (p.Length == 0 || d.Length == 0) continue;
                double gap = d.Average() - p.Average();
                double spread = new[] { Std(p), Std(d) }.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max();
                var verdict = gap <= 0 ? "DI2N is at least as good as PTQ4DM" : "DI2N is worse than PTQ4DM";
                var noise = double.IsNaN(spread) ? "(one calibration seed: no spread measured)"
                    : Math.Abs(gap) > 2 * spread ? $"(larger than twice the seed-to-seed spread {Format(spread, "F2")})"
                    : $"(within twice the seed-to-seed spread {Format(spread, "F2")}: not a resolved difference)";
                sentences.Add($"{bits}, {metric}: DI2N {Format(d.Average(), "F2")} vs PTQ4DM {Format(p.Average(), "F2")} → {verdict} by {Format(Math.Abs(gap), "F2")} {noise}.");
                if (haveReference)
                {
                    var fp = Values(ReproductionSection.SeedTable, "fp", "FP32", false);
                    sentences.Add($"{bits}: DI2N is {Format(d.Average() - fp[0], "+0.00;-0.00")} from FP ({Format(fp[0], "F2")}), PTQ4DM {Format(p.Average() - fp[0], "+0.00;-0.00")}.");
                }
            }
            var fpInput = Values(ReproductionSection.BeyondTheSeed, "di2n-fp-input", "W8A8", !haveReference);
            var di2n8 = Values(ReproductionSection.SeedTable, "di2n", "W8A8", !haveReference);
            var ptq4dm8 = Values(ReproductionSection.SeedTable, "ptq4dm", "W8A8", !haveReference);
            if (fpInput.Length > 0 && di2n8.Length > 0 && ptq4dm8.Length > 0)
                sentences.Add($"W8A8, {metric}: DI2N with x_t unquantized {Format(fpInput[0], "F2")} vs DI2N {Format(di2n8.Average(), "F2")} vs PTQ4DM {Format(ptq4dm8.Average(), "F2")} (one seed for the first).");
            var uniform = Values(ReproductionSection.TimestepCalibration, "full-uniform", "W8A8", !haveReference);
            var normal = Values(ReproductionSection.TimestepCalibration, "full-normal", "W8A8", !haveReference);
            if (uniform.Length > 0 && normal.Length > 0)
                sentences.Add($"Time-step calibration, {metric}: uniform {Format(uniform[0], "F2")} vs normal {Format(normal[0], "F2")} → " +
                    (normal[0] > uniform[0] ? "normal is worse, as the seed found" : "normal is not worse here, unlike the seed's finding") + " (one seed each).");
        }
        if (sentences.Count == 0) sentences.Add("No metrics were computed yet.");
        sentences.Add("Sample counts below ~5,000 bias Fréchet distances upward (fewer samples, larger value); compare rows of one report, not with published numbers.");
        return sentences;
    }

    private static double Std(double[] v) => v.Length < 2 ? double.NaN : Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1));

    private static string Duration(double seconds) => seconds < 120 ? $"{seconds:F0} s" : seconds < 7200 ? $"{seconds / 60:F1} min" : $"{seconds / 3600:F1} h";
}
