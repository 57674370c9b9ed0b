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
        var samples = new Option<string>("--samples") { Description = "Samples: " + ImageSources.Formats + ".", Required = true };
        var limit = new Option<long?>("--limit") { Description = "Use only the first N samples (after --skip)." };
        var skip = new Option<long>("--skip") { Description = "Leave out the first N samples (e.g. disjoint subsets: --skip 1000 --limit 1000)." };
        var reference = new Option<string>("--ref") { Description = "Reference statistics from qdm stats (or pytorch-fid's .npz).", Required = true };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Also print the sampling noise of the pooled FD: std over N bootstrap resamples of the samples (0 = off).", DefaultValueFactory = _ => 0 };
        var parts = new Option<string?>("--parts")
        {
            Description = "Folder for the features in parts of 5,000 images, saved as they are extracted, so a stopped evaluation of a large set resumes (removed when done).",
        };
        var command = new Command("eval", "Evaluate samples against reference statistics.") { samples, limit, skip, reference, bootstrap, parts };
        features.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var refStats = ReferenceStatistics.Load(result.GetValue(reference)!);
            var source = ImageSources.Open(result.GetValue(samples)!, result.GetValue(limit), result.GetValue(skip));
            using var network = features.Open(result);
            AnsiConsole.MarkupLineInterpolated($"[bold]samples[/]   {source.Description}");
            AnsiConsole.MarkupLineInterpolated($"[bold]reference[/] {result.GetValue(reference)} ({refStats.Pooled.Count} images, {refStats.Network})");
            var featureParts = result.GetValue(parts) is { } folder ? new FeatureParts(folder) : null;
            var set = FeatureOptions.ExtractWithProgress(network, source, result.GetValue(features.Batch), featureParts);
            var report = Evaluation.Evaluate(network, set, refStats);
            featureParts?.Delete();
            Print(report);
            if (result.GetValue(bootstrap) is > 0 and var replicates)
            {
                var distances = PairedBootstrap.Distances(set.Pooled, refStats.Pooled, PairedBootstrap.Indices(set.Count, replicates, seed: 0));
                double mean = distances.Average(), std = SampleStatistics.Std(distances);
                AnsiConsole.MarkupLineInterpolated($"[bold]{report.PooledMetric} sampling noise[/] ±{std:F4} (std over {replicates} bootstrap resamples of the {set.Count} samples; their mean {mean:F4} sits above {report.Fd:F4} because resampling repeats images)");
            }
            else if (result.GetValue(bootstrap) < 0) throw new QdmInputException($"--bootstrap must be ≥ 0, got {result.GetValue(bootstrap)}.");
            return 0;
        }));
        return command;
    }

    public static void Print(EvaluationReport r)
    {
        var table = new Table().AddColumns("metric", "value");
        if (r.InceptionScoreAdm is { } isAdm)
        {
            table.AddRow("IS (ADM: chunks of 5000)", $"{isAdm:F4}");
            if (r.InceptionScore10Splits is { } is10) table.AddRow("IS (10 splits, mean ± std)", $"{is10.Mean:F4} ± {is10.Std:F4}");
        }
        else table.AddRow("IS", "not available: this feature network has no classifier");
        table.AddRow(r.PooledMetric, $"{r.Fd:F4}");
        if (r.SpatialFd is { } sfd) table.AddRow(r.SpatialMetric, $"{sfd:F4}");
        if (r.Kid is { } kid) table.AddRow("KID (100 subsets of ≤1000, mean ± std)", $"{kid.Mean:F6} ± {kid.Std:F6}");
        if (r.Precision is { } p) table.AddRow("precision (k = 3)", $"{p:F4}");
        if (r.Recall is { } rc) table.AddRow("recall (k = 3)", $"{rc:F4}");
        if (r.Kid is null) table.AddRow("KID, precision, recall", "reference file holds no features");
        table.AddRow("samples / reference images", $"{r.Samples} / {r.ReferenceCount}");
        AnsiConsole.MarkupLineInterpolated($"[bold]feature space[/] {r.Network}");
        AnsiConsole.Write(table);
    }
}
