using System.CommandLine;
using System.Globalization;
using Qdm.Metrics;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>
/// qdm reference-cifar10: the reference figures of a feature space on the CIFAR-10 files in a data folder — train (50k,
/// JPEG) vs test (10k, JPEG), and exact pixels vs their JPEG versions (the JPEG effect). Statistics files are reused.
/// </summary>
public static class ReferenceCommand
{
    public static Command Create()
    {
        var features = new FeatureOptions();
        var data = new Option<string>("--data") { Description = "Folder with cifar10-jpeg-q75.tar.gz and the exact .bin subsets.", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for the statistics files (reused when present).", Required = true };
        var command = new Command("reference-cifar10", "Reference figures on CIFAR-10: train vs test, exact vs JPEG.") { data, output };
        features.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var dir = result.GetValue(data)!;
            var outDir = result.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            var archive = Path.Combine(dir, "cifar10-jpeg-q75.tar.gz");
            var trainBin = Path.Combine(dir, "cifar10-train-batch1-first4000.bin");
            var testBin = Path.Combine(dir, "cifar10-test-first1017.bin");
            using var network = features.Open(result);
            int batch = result.GetValue(features.Batch);

            string Stats(string name, Func<IImageSource> open)
            {
                var path = Path.Combine(outDir, name + ".npz");
                if (File.Exists(path)) { AnsiConsole.MarkupLineInterpolated($"[grey]reusing {path}[/]"); return path; }
                var source = open();
                AnsiConsole.MarkupLineInterpolated($"[bold]{name}[/]: {source.Description}");
                var parts = new FeatureParts(path + ".parts");
                FeatureOptions.ExtractWithProgress(network, source, batch, parts).Statistics().Save(path);
                parts.Delete();
                return path;
            }

            var rows = new List<(string Label, EvaluationReport Report)>
            {
                ("CIFAR-10 train 50k vs test 10k (JPEG q75)",
                    CompareCommand.Compare(Stats("train_jpeg", () => ImageSources.Open(archive + ":train/")), Stats("test_jpeg", () => ImageSources.Open(archive + ":test/")))),
                ("exact vs JPEG, first 4,000 train images",
                    CompareCommand.Compare(Stats("train4000_exact", () => ImageSources.Open(trainBin)), Stats("train4000_jpeg", () => new CifarJpegCounterparts(trainBin, archive, "train")))),
                ("exact vs JPEG, first 1,017 test images",
                    CompareCommand.Compare(Stats("test1017_exact", () => ImageSources.Open(testBin)), Stats("test1017_jpeg", () => new CifarJpegCounterparts(testBin, archive, "test")))),
            };
            var first = rows[0].Report;
            var c = CultureInfo.InvariantCulture;
            Console.WriteLine($"| sets | {first.PooledMetric} | {first.SpatialMetric} | KID (mean ± std) | precision | recall |");
            Console.WriteLine("|---|---|---|---|---|---|");
            foreach (var (label, r) in rows)
                Console.WriteLine(string.Create(c, $"| {label} | {r.Fd:F2} | {r.SpatialFd:F2} | {r.Kid?.Mean:F4} ± {r.Kid?.Std:F4} | {r.Precision:F3} | {r.Recall:F3} |"));
            Console.WriteLine($"feature space: {first.Network}");
            return 0;
        }));
        return command;
    }
}
