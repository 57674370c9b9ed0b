using System.CommandLine;
using System.Diagnostics;
using Qdm.Metrics;
using Qdm.Metrics.Inception;
using Qdm.Metrics.ResNet18;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Commands;

/// <summary>qdm bench features: feature-extraction throughput of each feature network on 32×32 images.</summary>
public static class FeaturesBench
{
    public static Command Create()
    {
        var images = new Option<int>("--images") { Description = "Images per timed run.", DefaultValueFactory = _ => 200 };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 50 };
        var threads = new Option<int>("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("features", "Time feature extraction (Inception-v3 with untrained weights: speed does not depend on them; ResNet-18 as shipped).") { images, batch, threads };
        command.SetAction(result => CliErrors.Run(() =>
        {
            set_num_threads(result.GetValue(threads));
            int n = result.GetValue(images), b = result.GetValue(batch);
            var data = randint(0, 256, new long[] { n, 32, 32, 3 }, generator: new Generator(0)).to(ScalarType.Byte);
            var table = new Table().AddColumns("network", "batch", "images", "seconds", "images/s");
            using (var inception = new InceptionFeatureNetwork(new FidInceptionV3()))
                table.AddRow(Row(inception, "Inception-v3 (FID, 299×299, TorchSharp)", data, b));
            using (var resnet = new ResNet18FeatureNetwork(ResNet18FeatureNetwork.DefaultModelsFolder, get_num_threads()))
                table.AddRow(Row(resnet, "ResNet-18 (ImageNet, 224×224, ONNX Runtime)", data, b));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"[grey]{Workflows.CpuDescription.Current()}; {get_num_threads()} threads.[/]");
            return 0;
        }));
        return command;
    }

    private static string[] Row(IFeatureNetwork network, string label, Tensor data, int batch)
    {
        using (var warm = network.Extract(data[..Math.Min(batch, (int)data.shape[0])]).Pooled) { }
        var clock = Stopwatch.StartNew();
        var set = FeatureSet.Extract(network, new TensorImages(data), batch);
        double seconds = clock.Elapsed.TotalSeconds;
        return new[] { label, batch.ToString(), set.Count.ToString(), $"{seconds:F1}", $"{set.Count / seconds:F1}" };
    }
}
