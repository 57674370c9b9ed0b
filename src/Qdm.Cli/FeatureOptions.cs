using System.CommandLine;
using Qdm.Metrics;
using Qdm.Metrics.Inception;
using Spectre.Console;

namespace Qdm.Cli;

/// <summary>Which feature network measures quality, and where its weights are.</summary>
public sealed class FeatureOptions
{
    public Option<string> Features { get; } = new("--features")
    {
        Description = "Feature network: inception (FID Inception-v3; needs its weights).",
        DefaultValueFactory = _ => "inception",
    };
    public Option<string?> Inception { get; } = new("--inception") { Description = $"Path of {InceptionWeights.FileName}." };
    public Option<string?> Cache { get; } = new("--cache") { Description = $"Folder holding downloaded weights (default {InceptionWeights.DefaultCacheFolder})." };
    public Option<int> Batch { get; } = new("--batch") { Description = "Images per feature batch.", DefaultValueFactory = _ => 50 };
    public Option<int> Threads { get; } = new("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Features, Inception, Cache, Batch, Threads }) command.Options.Add(option);
    }

    public IFeatureNetwork Open(ParseResult result)
    {
        TorchSharp.torch.set_num_threads(Math.Max(1, result.GetValue(Threads)));
        return result.GetValue(Features) switch
        {
            "inception" => InceptionFeatureNetwork.Load(InceptionWeights.Locate(result.GetValue(Inception), result.GetValue(Cache))),
            var other => throw new QdmInputException($"unknown --features '{other}'; expected inception."),
        };
    }

    /// <summary>Extracts features with a progress bar showing images/s.</summary>
    public static FeatureSet ExtractWithProgress(IFeatureNetwork network, IImageSource images, int batch)
    {
        FeatureSet result = null!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("features", maxValue: images.Count);
                result = FeatureSet.Extract(network, images, batch, new SynchronousProgress<long>(done =>
                {
                    task.Value = done;
                    task.Description = $"features [grey]{done / clock.Elapsed.TotalSeconds:F1} img/s[/]";
                }));
            });
        return result;
    }
}
