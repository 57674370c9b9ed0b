using System.CommandLine;
using Qdm.Metrics;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm eval: IS, FID, sFID of a sample set against reference statistics, each labelled with its feature space.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var features = new FeatureOptions();
        var samples = new Option<string>("--samples") { Description = "Samples: .npz with arr_0 (as qdm sample writes) or a folder of images.", Required = true };
        var reference = new Option<string>("--ref") { Description = "Reference statistics from qdm stats (or pytorch-fid's .npz).", Required = true };
        var command = new Command("eval", "Evaluate samples against reference statistics.") { samples, reference };
        features.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var refStats = ReferenceStatistics.Load(result.GetValue(reference)!);
            var source = ImageSources.Open(result.GetValue(samples)!);
            using var network = features.Open(result);
            AnsiConsole.MarkupLineInterpolated($"[bold]samples[/]   {source.Description}");
            AnsiConsole.MarkupLineInterpolated($"[bold]reference[/] {result.GetValue(reference)} ({refStats.Pooled.Count} images, {refStats.Network})");
            var set = FeatureOptions.ExtractWithProgress(network, source, result.GetValue(features.Batch));
            Print(Evaluation.Evaluate(set, refStats));
            return 0;
        }));
        return command;
    }

    public static void Print(EvaluationReport r)
    {
        var table = new Table().AddColumns("metric", "value", "feature space");
        if (r.InceptionScoreAdm is { } isAdm)
            table.AddRow("IS (ADM: chunks of 5000)", $"{isAdm:F4}", r.Network);
        if (r.InceptionScore10Splits is { } is10)
            table.AddRow("IS (10 splits, mean ± std)", $"{is10.Mean:F4} ± {is10.Std:F4}", r.Network);
        table.AddRow("FID", $"{r.Fid:F4}", r.Network);
        if (r.SpatialFid is { } sfid) table.AddRow("sFID", $"{sfid:F4}", r.Network);
        table.AddRow("samples / reference images", $"{r.Samples} / {r.ReferenceCount}", "");
        AnsiConsole.Write(table);
    }
}
