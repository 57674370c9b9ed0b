using System.CommandLine;
using Qdm.Metrics;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm stats: reference statistics (mu/sigma as pytorch-fid writes them, plus the sFID pair) of an image set.</summary>
public static class StatsCommand
{
    public static Command Create()
    {
        var features = new FeatureOptions();
        var images = new Option<string>("--images") { Description = "Images: " + ImageSources.Formats + ".", Required = true };
        var limit = new Option<long?>("--limit") { Description = "Use only the first N images." };
        var output = new Option<string>("--out") { Description = "Statistics file (.npz).", Required = true };
        var command = new Command("stats", "Compute reference statistics of an image set.") { images, limit, output };
        features.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var source = ImageSources.Open(result.GetValue(images)!, result.GetValue(limit));
            using var network = features.Open(result);
            AnsiConsole.MarkupLineInterpolated($"[bold]images[/]   {source.Description}");
            AnsiConsole.MarkupLineInterpolated($"[bold]features[/] {network.Name}");
            var outPath = result.GetValue(output)!;
            var parts = new FeatureParts(outPath + ".parts");   // a stopped run resumes from the parts finished so far
            var set = FeatureOptions.ExtractWithProgress(network, source, result.GetValue(features.Batch), parts);
            set.Statistics().Save(outPath);
            parts.Delete();
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/]    {outPath} ({set.Count} images; pooled {network.PooledSize}-d with the features for KID and precision/recall, spatial {network.SpatialSize}-d)");
            return 0;
        }));
        return command;
    }
}
