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
    /// <summary>Images sampled so far per computation (its finished batches; the whole set once it is complete).</summary>
    public IReadOnlyDictionary<string, long> SampledImages { get; init; } = new Dictionary<string, long>();
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
        text.AppendLine($"- machine: {context.Machine}; whole command {IO.Durations.Readable(context.WallSeconds)} this run (stages already done were reused)");
        foreach (var line in WhereComputed(results)) text.AppendLine(line);
        foreach (var (network, reference) in context.References)
            text.AppendLine($"- {network} reference: {reference ?? "none given (--ref); the distribution columns are empty, the paired columns compare with the FP samples"}");
        text.AppendLine("- reconstruction for every quantized row: PTQ4DM's recipe (QDrop p 0.5, rounding weight 0.01) at the iterations above; only the named part differs between rows");
        text.AppendLine("- quantize time: that row's wall time; a calibration set shared by several rows is paid by the first row that built it (e.g. PTQ4DM's NDTC trajectories), so later rows look cheaper");
        text.AppendLine();
        var timed = results.Values.Select(r => r.Sampling).Where(s => s is { FreshImages: > 0, Seconds: > 0 }).ToList();
        double? rate = timed.Count > 0 ? timed.Sum(s => s!.FreshImages) / timed.Sum(s => s!.Seconds) : null;
        var progress = Progress(context.SampledImages, context.Scale.Samples, rate).ToList();
        if (progress.Count > 0)
        {
            text.AppendLine("## Progress").AppendLine();
            foreach (var line in progress) text.AppendLine(line);
            text.AppendLine();
        }

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
            header.AddRange(new[] { $"FD vs FP samples ({networks.FirstOrDefault().PooledMetric ?? "—"})", "mean abs. pixel Δ vs FP", "mean pixel shift vs FP (per channel)", "rel. output MSE vs FP, simulated (mean over steps)",
                "rel. MSE vs FP: ORT / simulated (ORT vs simulated)", "quantize time", "file size", "samples" });
            text.AppendLine("| " + string.Join(" | ", header) + " |");
            text.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", header.Count)));
            foreach (var line in lines) text.AppendLine("| " + string.Join(" | ", Cells(line, results, networks)) + " |");
            text.AppendLine();
        }

        text.AppendLine("## Reading").AppendLine();
        foreach (var sentence in ReproductionReading.Sentences(rows, results, networks)) text.AppendLine($"- {sentence}");
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
        _ => "Beyond the seed: the network input x_t left in FP (qdm inspect puts most of the full placement's error there), bias correction of the rounded weights' colour cast, and the quantized softmax's row sums",
    };

    private static IEnumerable<string> Cells(Line line, IReadOnlyDictionary<string, RowResults> results, IReadOnlyList<(string Network, string Pooled, string Spatial)> networks)
    {
        var applicable = line.Rows.Where(r => r.NotApplicable is null).ToList();
        yield return line.Label;
        yield return line.Bits;
        if (applicable.Count == 0)
        {
            yield return line.Rows[0].NotApplicable!;
            foreach (var _ in Enumerable.Range(0, networks.Sum(n => n.Pooled == "FID" ? 6 : 5) + 8)) yield return "";
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
        yield return ChannelCell(firstMetrics.Select(m => m?.PixelShiftVsFp).Where(v => v is not null).Select(v => v!).ToList());
        yield return Cell(found.Select(f => f?.Quantization is { } q ? q.After.Average(s => s.Relative) : (double?)null), "E2");
        var agreements = found.Select(f => f?.Agreement).Where(a => a is not null).ToList();
        yield return agreements.Count == 0 ? "—"
            : $"{Mean(agreements, a => a.OrtVsFp)} / {Mean(agreements, a => a.SimulatedVsFp)} ({Mean(agreements, a => a.OrtVsSimulated)})";
        yield return Cell(found.Select(f => f?.Quantization?.Seconds), "F0", " s");
        yield return Cell(found.Select(f => f?.Quantization is { } q ? q.FileBytes / 1e6 : (double?)null), "F2", " MB");
        int sampled = firstMetrics.Count(m => m is not null);
        var counts = firstMetrics.Where(m => m is not null).Select(m => (double?)m!.Samples).Distinct().ToList();
        yield return (counts.Count == 1 ? Cell(counts, "F0") + (sampled > 1 ? " each" : "") : Cell(firstMetrics.Select(m => m is null ? (double?)null : m.Samples), "F0")) +
            (sampled > 0 && sampled < applicable.Count ? $" ({sampled} of {applicable.Count} seeds so far)" : "");
    }

    private static string Mean(IEnumerable<AgreementRecord?> records, Func<AgreementRecord, IReadOnlyList<Reconstruction.StepError>> series) =>
        Format(records.Average(a => series(a!).Average(s => s.Relative)), "E2");

    /// <summary>One value, or mean ± sample std over calibration seeds; "—" where nothing was measured.</summary>
    public static string Cell(IEnumerable<double?> values, string format, string unit = "")
    {
        var v = values.Where(x => x is not null && double.IsFinite(x.Value)).Select(x => x!.Value).ToList();
        if (v.Count == 0) return "—";
        if (v.Count == 1) return Format(v[0], format) + unit;
        double mean = v.Average(), std = Metrics.SampleStatistics.Std(v);
        return $"{Format(mean, format)} ± {Format(std, format)}{unit}";
    }

    /// <summary>Per-channel values averaged over seeds, "a / b / c"; "—" where nothing was measured.</summary>
    private static string ChannelCell(IReadOnlyList<IReadOnlyList<double>> perSeed) => perSeed.Count == 0 ? "—"
        : string.Join(" / ", Enumerable.Range(0, perSeed[0].Count).Select(c => Format(perSeed.Average(v => v[c]), "+0.0;-0.0;0.0")));

    internal static string Format(double value, string format) => value.ToString(format, Invariant);

    /// <summary>
    /// One line per CPU that sampled or quantized rows, with each row's sampling rate: a run over several sessions may
    /// span machines of different speed, and the times in the table are only comparable within one.
    /// </summary>
    public static IEnumerable<string> WhereComputed(IReadOnlyDictionary<string, RowResults> results)
    {
        var sampled = results.Where(r => r.Value.Sampling is not null).GroupBy(r => r.Value.Sampling!.Cpu ?? "CPU not recorded");
        foreach (var cpu in sampled.OrderBy(g => g.Key, StringComparer.Ordinal))
            yield return $"- sampled on {cpu.Key}: " + string.Join(", ", cpu.Select(r => r.Value.Sampling!.FreshImages > 0 && r.Value.Sampling.Seconds > 0
                ? $"{r.Key} {r.Value.Sampling.FreshImages / r.Value.Sampling.Seconds:F2} images/s (last {r.Value.Sampling.FreshImages} images)"
                : $"{r.Key} (resumed, no new images)"));
        var quantized = results.Where(r => r.Value.Quantization is not null).GroupBy(r => r.Value.Quantization!.Cpu ?? "CPU not recorded");
        foreach (var cpu in quantized.OrderBy(g => g.Key, StringComparer.Ordinal))
            yield return $"- quantized on {cpu.Key}: {string.Join(", ", cpu.Select(r => r.Key))}";
    }

    /// <summary>
    /// How far a run spread over sessions has got: computations sampled in full, in progress (images of the total) and
    /// not started; with the rate the finished sets were sampled at, the sampling time left. Nothing while every set is complete.
    /// </summary>
    public static IEnumerable<string> Progress(IReadOnlyDictionary<string, long> sampled, long perRow, double? imagesPerSecond = null)
    {
        if (sampled.Count == 0 || sampled.Values.All(n => n >= perRow)) yield break;
        var finished = sampled.Where(kv => kv.Value >= perRow).Select(kv => kv.Key).ToList();
        var running = sampled.Where(kv => kv.Value > 0 && kv.Value < perRow).ToList();
        var waiting = sampled.Where(kv => kv.Value == 0).Select(kv => kv.Key).ToList();
        yield return $"- sampled in full: {finished.Count} of {sampled.Count} computations" + (finished.Count > 0 ? $" ({string.Join(", ", finished)})" : "");
        if (running.Count > 0)
            yield return "- in progress: " + string.Join(", ", running.Select(kv => $"{kv.Key} {kv.Value.ToString("N0", Invariant)} of {perRow.ToString("N0", Invariant)} images"));
        if (waiting.Count > 0) yield return $"- not started: {string.Join(", ", waiting)}";
        long done = sampled.Values.Sum(n => Math.Min(n, perRow)), total = perRow * sampled.Count;
        yield return $"- {done.ToString("N0", Invariant)} of {total.ToString("N0", Invariant)} images sampled ({Format(100.0 * done / total, "F1")} %); the tables show finished sets only";
        if (imagesPerSecond is > 0 and var rate)
            yield return $"- time left: ~{IO.Durations.Readable((total - done) / rate)} of sampling at {Format(rate, "F2")} images/s (the rate the finished sets' fresh images were made at), plus the quantization of each row not yet quantized";
    }
}
