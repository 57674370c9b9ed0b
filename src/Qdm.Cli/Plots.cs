using Qdm.Placement;

namespace Qdm.Cli;

/// <summary>PNG figures for reports (ScottPlot).</summary>
public static class Plots
{
    /// <summary>Histogram of the calibration set's time steps.</summary>
    public static void TimestepHistogram(Qdm.Calibration.CalibrationSet data, string path, string title)
    {
        var counts = data.Timesteps.data<long>().GroupBy(t => t).OrderBy(g => g.Key).ToList();
        var plot = new ScottPlot.Plot();
        var bars = counts.Select(g => new ScottPlot.Bar { Position = g.Key, Value = g.Count(), Size = Math.Max(1, counts.Count > 1 ? (counts[^1].Key - counts[0].Key) / (double)(counts.Count * 1.5) : 10) }).ToList();
        plot.Add.Bars(bars);
        plot.Title(title);
        plot.XLabel("time step t");
        plot.YLabel("calibration samples");
        plot.SavePng(path, 1200, 500);
    }

    /// <summary>Observed activation min/max per time step for the quantizers whose range moves most with t.</summary>
    public static void ActivationRanges(QuantizedUNet model, string path, int count = 6)
    {
        var chosen = model.Activations
            .Select(e => (Entry: e, Samples: e.Quantizer.RangeHistory.Where(s => s.Timestep is not null).ToList()))
            .Where(x => x.Samples.Count > 1)
            .Select(x =>
            {
                var byT = x.Samples.GroupBy(s => s.Timestep!.Value).Select(g => (T: g.Key, Min: g.Min(s => s.Min), Max: g.Max(s => s.Max))).OrderBy(p => p.T).ToList();
                double span = byT.Max(p => p.Max) - byT.Min(p => p.Min);
                double movement = span <= 0 ? 0 : (byT.Max(p => p.Max) - byT.Min(p => p.Max)) / span;
                return (x.Entry, byT, movement);
            })
            .OrderByDescending(x => x.movement).Take(count).ToList();
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < chosen.Count; i++)
        {
            var (entry, byT, _) = chosen[i];
            double[] ts = byT.Select(p => (double)p.T).ToArray();
            var color = palette.GetColor(i);
            var max = plot.Add.Scatter(ts, byT.Select(p => (double)p.Max).ToArray(), color);
            max.LegendText = $"{entry.Path} ({entry.Tensor})";
            var min = plot.Add.Scatter(ts, byT.Select(p => (double)p.Min).ToArray(), color);
            min.LinePattern = ScottPlot.LinePattern.Dashed;
        }
        plot.Title("Activation range across time steps (solid: max, dashed: min)");
        plot.XLabel("time step t");
        plot.YLabel("activation value");
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.SavePng(path, 1400, 700);
    }
}
