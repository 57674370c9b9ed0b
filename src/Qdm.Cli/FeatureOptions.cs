using System.CommandLine;
using Qdm.Metrics;
using Qdm.Metrics.Inception;
using Qdm.Metrics.ResNet18;
using Spectre.Console;

namespace Qdm.Cli;

/// <summary>Which feature network measures quality, and where its weights are.</summary>
public sealed class FeatureOptions
{
    public Option<string> Features { get; } = new("--features")
    {
        Description = "Feature network: inception (FID Inception-v3; needs its weights) or r18 (ImageNet ResNet-18, ships with Qdm).",
        DefaultValueFactory = _ => "inception",
    };
    public Option<string?> Inception { get; } = new("--inception") { Description = $"Path of {InceptionWeights.FileName}." };
    public Option<string?> Cache { get; } = new("--cache") { Description = $"Folder holding downloaded weights (default {InceptionWeights.DefaultCacheFolder})." };
    public Option<string?> R18Models { get; } = new("--r18-models") { Description = "Folder holding ResNet18Onnx/ and ResNetPrepOnnx/ (default: beside the program)." };
    public Option<int> Batch { get; } = new("--batch") { Description = "Images per feature batch.", DefaultValueFactory = _ => 50 };
    public Option<int> Threads { get; } = new("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Features, Inception, Cache, R18Models, Batch, Threads }) command.Options.Add(option);
    }

    public IFeatureNetwork Open(ParseResult result)
    {
        TorchSharp.torch.set_num_threads(Math.Max(1, result.GetValue(Threads)));
        return result.GetValue(Features) switch
        {
            "inception" => InceptionFeatureNetwork.Load(InceptionWeights.Locate(result.GetValue(Inception), result.GetValue(Cache))),
            "r18" or "resnet18" => new ResNet18FeatureNetwork(result.GetValue(R18Models) ?? ResNet18FeatureNetwork.DefaultModelsFolder, result.GetValue(Threads)),
            var other => throw new QdmInputException($"unknown --features '{other}'; expected inception or r18."),
        };
    }

    /// <summary>Extracts features with a progress bar showing images/s; with parts, resumably (see <see cref="FeatureParts"/>).</summary>
    public static FeatureSet ExtractWithProgress(IFeatureNetwork network, IImageSource images, int batch, FeatureParts? parts = null)
    {
        if (parts is { SavedParts: > 0 })
            AnsiConsole.MarkupLineInterpolated($"[grey]resuming from {parts.SavedParts} finished part(s) in {parts.Folder}[/]");
        FeatureSet result = null!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("features", maxValue: images.Count);
                // Rate from the first report on: after a resume that report already counts the parts read back from disk.
                long firstDone = -1;
                double firstSeconds = 0;
                var progress = new SynchronousProgress<long>(done =>
                {
                    if (firstDone < 0) (firstDone, firstSeconds) = (done, clock.Elapsed.TotalSeconds);
                    task.Value = done;
                    double seconds = clock.Elapsed.TotalSeconds - firstSeconds;
                    if (seconds > 0) task.Description = $"features [grey]{(done - firstDone) / seconds:F1} img/s[/]";
                });
                result = parts is null ? FeatureSet.Extract(network, images, batch, progress) : parts.Extract(network, images, batch, progress);
            });
        return result;
    }
}
