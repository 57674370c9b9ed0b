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

    /// <summary>Pooled Fréchet distance per table line (against the reference if given, else against the FP samples), with the seed spread.</summary>
    private static (string, string)? MetricByMethod(string outDir, IReadOnlyList<ReproductionRow> rows, IReadOnlyDictionary<string, RowResults> results)
    {
        var lines = ReproductionReport.Lines(rows).Where(l => l.Rows.Any(r => r.NotApplicable is null)).ToList();
        MetricsRecord? Metric(ReproductionRow r) => results.GetValueOrDefault(r.Key)?.Metrics.FirstOrDefault();
        bool vsReference = lines.SelectMany(l => l.Rows).Any(r => Metric(r)?.Fd is not null);
        var points = lines.Select(l => (Line: l, Values: l.Rows.Select(Metric).Select(m => vsReference ? m?.Fd : m?.FdVsFp)
            .Where(v => v is not null).Select(v => v!.Value).ToArray())).Where(p => p.Values.Length > 0).ToList();
        if (points.Count == 0) return null;
        var metricName = Metric(points[0].Line.Rows[0])!.PooledMetric;
        var plot = new ScottPlot.Plot();
        for (int i = 0; i < points.Count; i++)
        {
            var v = points[i].Values;
            double mean = v.Average(), std = v.Length < 2 ? 0 : Qdm.Metrics.SampleStatistics.Std(v);
            var bar = plot.Add.Bar(position: i, value: mean, error: std);
            bar.Color = points[i].Line.Bits switch { "FP32" => ScottPlot.Colors.Gray, "W8A8" => ScottPlot.Colors.SteelBlue, _ => ScottPlot.Colors.DarkOrange };
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, points.Count).Select(i => (double)i).ToArray(),
            points.Select(p => p.Line.Bits == "FP32" ? "FP32" : $"{p.Line.Label} {p.Line.Bits}").ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = 260;
        plot.Axes.Left.MinimumSize = 160;   // room for the first slanted label
        plot.YLabel(vsReference ? $"{metricName} vs reference (lower is better)" : $"{metricName} vs FP samples (lower is better)");
        plot.Title("Quality per method and bit width (bars: mean over calibration seeds, whiskers: std)");
        var file = Path.Combine("figures", "metric_by_method.png");
        plot.SavePng(Path.Combine(outDir, file), 1400, 800);
        return (file, $"{metricName} per method and bit width (grey FP32, blue W8A8, orange W4A8)");
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
