using Qdm.IO;
using Qdm.Workflows;
using static TorchSharp.torch;

namespace Qdm.Cli.Reproduce;

/// <summary>The report's figures: samples side by side, the metric per method and bits, per-step error, activation ranges.</summary>
public static class ReproducePlots
{
    public static IReadOnlyList<(string File, string Caption)> Write(string outDir, IReadOnlyList<ReproductionRow> rows,
        IReadOnlyList<ReproductionRow> computations, IReadOnlyDictionary<string, RowResults> results)
    {
        var figures = new List<(string, string)>();
        Directory.CreateDirectory(Path.Combine(outDir, "figures"));
        if (SideBySide(outDir, computations) is { } grid) figures.Add(grid);
        if (MetricByMethod(outDir, rows, results) is { } bars) figures.Add(bars);
        if (StepErrors(outDir, computations, results) is { } steps) figures.Add(steps);
        foreach (var row in computations.Where(r => r.Job is not null && r.Job.Placement.WeightBits == 8 && r.Job.Seed == 0 && r.Method is "ptq4dm" or "di2n"))
        {
            var ranges = Path.Combine("quant", row.Key + ".work", "activation_ranges.png");
            if (File.Exists(Path.Combine(outDir, ranges)))
                figures.Add((ranges, $"Activation ranges across time steps, {row.Label} {row.Bits} (the quantizers whose range moves most with t)"));
        }
        return figures;
    }

    /// <summary>The first 8 samples of every row, one row per computation, from the same seeds.</summary>
    private static (string, string)? SideBySide(string outDir, IReadOnlyList<ReproductionRow> computations)
    {
        using var scope = NewDisposeScope();
        var present = computations.Where(r => File.Exists(Path.Combine(outDir, "samples", r.Key, "samples.npz"))).ToList();
        if (present.Count == 0) return null;
        var images = present.Select(r => Npz.ReadArray(Path.Combine(outDir, "samples", r.Key, "samples.npz"), "arr_0")).ToList();
        int columns = (int)Math.Min(8, images.Min(i => i.shape[0]));
        var file = Path.Combine("figures", "samples_side_by_side.png");
        var grid = Png.Grid(cat(images.Select(i => i[..columns]).ToArray(), 0), columns);
        Png.Write(Path.Combine(outDir, file), grid.repeat_interleave(3, 0).repeat_interleave(3, 1));   // 3× nearest-neighbour: 32-pixel images are hard to see
        return (file, "Samples from the same seeds, one row per computation, top to bottom: " + string.Join(", ", present.Select(r => r.Job is null ? "FP32" : $"{r.Label} {r.Bits} (seed {r.Job.Seed})")));
    }

    /// <summary>
    /// Each quantized table line's distance from FP32: with a reference, its pooled FD minus FP's (mean over the sampled
    /// calibration seeds), whiskers the larger of the seed std and the gap's paired-bootstrap std; without one, its FD to
    /// the FP samples, whiskers the seed std. Lines that repeat a computation already shown (the ablation's PTQ4DM and
    /// "+ order" rows on DDPM) are left out.
    /// </summary>
    private static (string, string)? MetricByMethod(string outDir, IReadOnlyList<ReproductionRow> rows, IReadOnlyDictionary<string, RowResults> results)
    {
        MetricsRecord? Metric(ReproductionRow r) => results.GetValueOrDefault(r.Key)?.Metrics.FirstOrDefault();
        var fp = rows.FirstOrDefault(r => r.Job is null) is { } fpRow ? Metric(fpRow) : null;
        bool vsReference = fp?.Fd is not null;
        var shown = new HashSet<string>();
        var bars = new List<(string Label, string Bits, double Value, double Whisker)>();
        foreach (var line in ReproductionReport.Lines(rows).Where(l => l.Rows.All(r => r.Job is not null && r.NotApplicable is null)))
        {
            if (!shown.Add(line.Rows[0].Key)) continue;
            var measured = line.Rows.Select(Metric).Where(m => m is not null && (vsReference ? m.Fd : m.FdVsFp) is not null).Select(m => m!).ToList();
            if (measured.Count == 0) continue;
            double seedStd = measured.Count < 2 ? 0 : Qdm.Metrics.SampleStatistics.Std(measured.Select(m => vsReference ? m.Fd!.Value : m.FdVsFp!.Value).ToArray());
            if (vsReference)
            {
                var (gap, noise) = ReproductionReading.SeedAveragedGap(measured, new[] { fp! });
                bars.Add((line.Label, line.Bits, gap, Math.Max(seedStd, double.IsNaN(noise) ? 0 : noise)));
            }
            else bars.Add((line.Label, line.Bits, measured.Average(m => m.FdVsFp!.Value), seedStd));
        }
        if (bars.Count == 0) return null;
        var metricName = (fp ?? results.Values.SelectMany(r => r.Metrics).First()).PooledMetric;
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < bars.Count; i++)
        {
            var bar = plot.Add.Bar(position: i, value: bars[i].Value, error: bars[i].Whisker);
            bar.Color = bars[i].Bits == "W8A8" ? ScottPlot.Colors.SteelBlue : ScottPlot.Colors.DarkOrange;
        }
        plot.Add.HorizontalLine(0, 1, ScottPlot.Colors.Black);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, bars.Count).Select(i => (double)i).ToArray(), bars.Select(b => $"{b.Label} {b.Bits}").ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 300;
        plot.Axes.Left.MinimumSize = 200;   // room for the first slanted label
        plot.YLabel(vsReference ? $"{metricName} minus FP32's {fp!.Fd!.Value:F2} (lower is better)" : $"{metricName} vs the FP32 samples (lower is better)");
        plot.Title(vsReference
            ? "Distance from FP32 per row (bars: mean over sampled calibration seeds; whiskers: larger of seed std and paired-bootstrap std)"
            : "Distance from the FP32 samples per row (bars: mean over sampled calibration seeds; whiskers: seed std)");
        var file = Path.Combine("figures", "metric_by_method.png");
        plot.SavePng(Path.Combine(outDir, file), 1400, 800);
        return (file, $"{metricName} of each quantized row relative to FP32 (blue W8A8, orange W4A8)");
    }

    /// <summary>Teacher-forced relative output MSE vs FP at every sampling step, after reconstruction, per quantized computation.</summary>
    private static (string, string)? StepErrors(string outDir, IReadOnlyList<ReproductionRow> computations, IReadOnlyDictionary<string, RowResults> results)
    {
        var series = computations.Where(r => results.GetValueOrDefault(r.Key)?.Quantization is not null).ToList();
        if (series.Count == 0) return null;
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var steps = results[series[i].Key].Quantization!.After;
            var line = plot.Add.Scatter(steps.Select(s => (double)s.Timestep).ToArray(), steps.Select(s => Math.Log10(Math.Max(s.Relative, 1e-12))).ToArray(), palette.GetColor(i));
            line.LegendText = series[i].Key;
        }
        plot.XLabel("time step t");
        plot.YLabel("log10 relative output MSE vs FP");
        plot.Title("Per-step output error of each quantized model (same x_t as the FP trajectory)");
        plot.ShowLegend(ScottPlot.Edge.Right);
        var file = Path.Combine("figures", "step_error.png");
        plot.SavePng(Path.Combine(outDir, file), 1400, 700);
        return (file, "Per-time-step output MSE vs FP for each quantized model");
    }
}
