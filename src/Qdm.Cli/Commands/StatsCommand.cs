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
        var images = new Option<string>("--images") { Description = "Folder of images or .npz with arr_0 (uint8 N×H×W×3).", Required = true };
        var output = new Option<string>("--out") { Description = "Statistics file (.npz).", Required = true };
        var command = new Command("stats", "Compute reference statistics of an image set.") { images, output };
        features.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var source = ImageSources.Open(result.GetValue(images)!);
            using var network = features.Open(result);
            AnsiConsole.MarkupLineInterpolated($"[bold]images[/]   {source.Description}");
            AnsiConsole.MarkupLineInterpolated($"[bold]features[/] {network.Name}");
            var set = FeatureOptions.ExtractWithProgress(network, source, result.GetValue(features.Batch));
            set.Statistics().Save(result.GetValue(output)!);
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/]    {result.GetValue(output)} ({set.Count} images; pooled {network.PooledSize}-d, spatial {network.SpatialSize}-d)");
            return 0;
        }));
        return command;
    }
}
