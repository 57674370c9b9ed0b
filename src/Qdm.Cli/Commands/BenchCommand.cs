using System.CommandLine;
using System.Diagnostics;
using Qdm.Models;
using Qdm.Models.Ddpm;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Commands;

/// <summary>qdm bench: speed figures printed side by side from one process (the machine is noisy; compare within a run).</summary>
public static class BenchCommand
{
    /// <summary>PyTorch 1.13 eager, 2 threads, batch 16, on the project's reference machine (ms per image per forward).</summary>
    private static readonly Dictionary<int, double> PyTorchReferenceMs = new() { [32] = 18.5, [64] = 35.7, [128] = 85.8 };

    public static Command Create()
    {
        var widths = new Option<int[]>("--widths") { Description = "DDPM CIFAR-10 U-Net widths (ch) to time.", DefaultValueFactory = _ => new[] { 32, 64, 128 }, AllowMultipleArgumentsPerToken = true };
        var batches = new Option<int[]>("--batches") { Description = "Batch sizes.", DefaultValueFactory = _ => new[] { 16, 64 }, AllowMultipleArgumentsPerToken = true };
        var repeats = new Option<int>("--repeats") { Description = "Timed forwards per setting (after one warm-up).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "CPU threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var forward = new Command("forward", "Time the DDPM CIFAR-10 U-Net forward pass (FP32, TorchSharp eager).") { widths, batches, repeats, threads };
        forward.SetAction(result => CliErrors.Run(() =>
        {
            set_num_threads(result.GetValue(threads));
            var table = new Table().AddColumns("U-Net", "params", "batch", "ms/img min", "ms/img median", "img/s", "PyTorch 1.13 B16 / ours");
            foreach (int ch in result.GetValue(widths)!)
            {
                using var model = ModelFactory.Create(new DdpmUNetConfig { Ch = ch });
                long parameters = model.parameters().Sum(p => p.numel());
                foreach (int batch in result.GetValue(batches)!)
                {
                    var times = TimeForward(model, batch, result.GetValue(repeats));
                    double min = times.Min() / batch, median = times.Order().ElementAt(times.Count / 2) / batch;
                    string ratio = batch == 16 && PyTorchReferenceMs.TryGetValue(ch, out var reference) ? $"{reference / min:F2}× ({reference} ms)" : "";
                    table.AddRow($"ddpm ch{ch}", $"{parameters / 1e6:F1}M", batch.ToString(), $"{min:F1}", $"{median:F1}", $"{1000 / min:F1}", ratio);
                    AnsiConsole.MarkupLineInterpolated($"[grey]ch{ch} batch {batch}: {min:F1} ms/img[/]");
                }
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"[grey]{Workflows.CpuDescription.Current()}; {get_num_threads()} threads; ratios > 1 mean faster than the PyTorch reference figure.[/]");
            return 0;
        }));

        var command = new Command("bench", "Benchmarks that print figures and ratios.");
        command.Subcommands.Add(forward);
        command.Subcommands.Add(FeaturesBench.Create());
        command.Subcommands.Add(EnginesBench.Create());
        return command;
    }

    private static List<double> TimeForward(DiffusionUNet model, int batch, int repeats)
    {
        using var _ = no_grad();
        var x = randn(batch, 3, 32, 32, generator: new Generator(0));
        var t = full(batch, 500f, ScalarType.Float32);
        using (var warm = model.call(x, t)) { }
        var times = new List<double>();
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using var y = model.call(x, t);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;
    }
}
