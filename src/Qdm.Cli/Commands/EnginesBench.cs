using System.CommandLine;
using System.Diagnostics;
using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Export;
using Qdm.Placement;
using Qdm.Sampling;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Commands;

/// <summary>qdm bench engines: one U-Net forward in TorchSharp (FP32, simulated quantization) and ONNX Runtime (FP32, QDQ fused into int8 kernels, QDQ as float ops), side by side.</summary>
public static class EnginesBench
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var placement = new PlacementOptions();
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 16 };
        var repeats = new Option<int>("--repeats") { Description = "Timed forwards per engine (after one warm-up).", DefaultValueFactory = _ => 5 };
        var intBias = new Option<bool>("--int-bias") { Description = "Export biases as int32 (needed for fused integer kernels)." };
        var profile = new Option<string?>("--profile") { Description = "Also profile the three ONNX Runtime sessions into this folder and print time per operator type." };
        var command = new Command("engines", "Time TorchSharp FP32, TorchSharp simulated quantization, ONNX Runtime FP32 and the quantized graph in ONNX Runtime (fused int8 kernels and float Q/DQ).") { batch, repeats, intBias, profile };
        model.AddTo(command);
        placement.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var fp = model.Load(result);
            var q = Quantization.Quantize(model.Load(result).Network, placement.Build(result));
            var sampler = DiffusionModel.DefaultSamplerFor(fp.Config.Family, SamplerKind.Ddim, 10);
            var calibration = TrajectoryCollector.Collect(fp, sampler, images: 4, batch: 4, seed: 0);
            using (no_grad())
            using (q.Observe())
                foreach (var (_, x, t) in calibration.ByTimestep()) q.Network.call(x, t).Dispose();

            int n = result.GetValue(batch), threads = result.GetValue(model.Threads);
            var input = randn(new long[] { n, fp.Config.InChannels, fp.Config.ImageSize, fp.Config.ImageSize }, generator: new Generator(0));
            var time = full(n, fp.Diffusion.Steps / 2f, ScalarType.Float32);
            var fpOnnx = UNetOnnxExporter.Export(fp.Network);
            var qOnnx = UNetOnnxExporter.Export(q.Network, new QdqOptions { IntegerBias = result.GetValue(intBias) });
            using var ortFp = new OrtUNet(fpOnnx, threads);
            bool vnni = Workflows.CpuDescription.HasVnni() == true;
            using var ortFused = new OrtUNet(qOnnx, threads, fuseQdq: true, cpuHasVnni: vnni);
            using var ortUnfused = new OrtUNet(qOnnx, threads, fuseQdq: false);
            bool fused = OrtUNet.FusesIntoIntegerKernels(q.Network);
            // Sampling's default for ORT (SamplingWorkers): one single-threaded session call per thread, batches side by side.
            using var ortFpWorker = new OrtUNet(fpOnnx, 1);
            using var ortQWorker = new OrtUNet(qOnnx, 1, fuseQdq: fused, cpuHasVnni: vnni);
            Action Concurrently(OrtUNet session) => () => Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => session.Forward(input, time).Dispose());
            var engines = new List<(string Name, Action Run, int Images)>
            {
                ("TorchSharp FP32", () => fp.Network.call(input, time).Dispose(), n),
                ("TorchSharp simulated " + q.Config.Describe(), () => q.Network.call(input, time).Dispose(), n),
                ("ONNX Runtime FP32", () => ortFp.Forward(input, time).Dispose(), n),
                ("ONNX Runtime QDQ, fused int8 kernels" + (fused ? " (used)" : ""), () => ortFused.Forward(input, time).Dispose(), n),
                ("ONNX Runtime QDQ, float Q/DQ" + (fused ? "" : " (used)"), () => ortUnfused.Forward(input, time).Dispose(), n),
            };
            if (threads > 1)
            {
                engines.Add(($"ONNX Runtime FP32, {threads} batches at once × 1 thread", Concurrently(ortFpWorker), n * threads));
                engines.Add(($"ONNX Runtime QDQ {(fused ? "fused" : "float")}, {threads} batches at once × 1 thread", Concurrently(ortQWorker), n * threads));
            }
            var table = new Table().AddColumns("engine", "ms/img (min)", "ms/img (median)", "images/s (best)", "vs TorchSharp FP32");
            double? baseline = null;
            using var _ = no_grad();
            foreach (var (name, run, images) in engines)
            {
                run();
                var times = Enumerable.Range(0, result.GetValue(repeats)).Select(_ =>
                {
                    var clock = Stopwatch.StartNew();
                    run();
                    return clock.Elapsed.TotalMilliseconds / images;
                }).Order().ToList();
                baseline ??= times[0];
                table.AddRow(Markup.Escape(name), $"{times[0]:F2}", $"{times[times.Count / 2]:F2}", $"{1000 / times[0]:F1}", $"{baseline / times[0]:F2}×");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"[grey]\"(used)\": the execution `qdm sample --backend ort` and `qdm reproduce` pick for this placement (fused only for the integer-kernel form, where ORT finds complete QDQ groups); \"batches at once\": how they spread sampling over the threads (--workers).[/]");
            if (result.GetValue(profile) is { } profileDir) PrintProfiles(profileDir, fpOnnx, qOnnx, input, time, threads);
            var compact = Path.Combine(Path.GetTempPath(), $"qdm-bench-{Environment.ProcessId}.qdm");
            Export.CompactModelFile.Save(compact, q, fp.Diffusion, new Dictionary<string, string>());
            long compactBytes = new FileInfo(compact).Length;
            File.Delete(compact);
            long fp32Bytes = fp.Network.parameters().Sum(p => p.numel()) * 4;
            AnsiConsole.MarkupLineInterpolated($"[grey]{Workflows.CpuDescription.Current()}; batch {n}, {threads} threads, one process. Sizes: FP32 weights {fp32Bytes / 1e6:F1} MB; quantized .qdm {compactBytes / 1e6:F2} MB ({(double)compactBytes / fp32Bytes:F3}×); ONNX graphs {fpOnnx.CalculateSize() / 1e6:F1} MB (FP32), {qOnnx.CalculateSize() / 1e6:F1} MB (QDQ). Peak memory of this process: {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:F2} GB.[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>Where ONNX Runtime spends a forward: milliseconds per operator type, FP32 and both QDQ executions side by side.</summary>
    private static void PrintProfiles(string folder, Onnx.ModelProto fpOnnx, Onnx.ModelProto qOnnx, Tensor input, Tensor time, int threads)
    {
        Directory.CreateDirectory(folder);
        var summaries = new List<IReadOnlyList<(string OpType, double Milliseconds, int Calls)>>();
        foreach (var (name, graph, fuse) in new[] { ("fp32", fpOnnx, true), ("qdq-fused", qOnnx, true), ("qdq-float", qOnnx, false) })
        {
            using var session = new OrtUNet(graph, threads, optimizedModelPath: Path.Combine(folder, $"{name}.optimized.onnx"), profilePrefix: Path.Combine(folder, name), fuseQdq: fuse,
                cpuHasVnni: Workflows.CpuDescription.HasVnni() == true);
            for (int i = 0; i < 3; i++) session.Forward(input, time).Dispose();
            summaries.Add(OrtUNet.SummariseProfile(session.EndProfiling()));
        }
        var table = new Table().AddColumns("operator", "FP32 ms (calls)", "QDQ fused ms (calls)", "QDQ float ms (calls)");
        foreach (var op in summaries.SelectMany(s => s.Select(x => x.OpType)).Distinct().OrderByDescending(o => summaries.Max(s => s.FirstOrDefault(x => x.OpType == o).Milliseconds)))
        {
            string Cell(IReadOnlyList<(string OpType, double Milliseconds, int Calls)> s) => s.FirstOrDefault(x => x.OpType == op) is { OpType: not null } x ? $"{x.Milliseconds:F1} ({x.Calls})" : "";
            table.AddRow(op, Cell(summaries[0]), Cell(summaries[1]), Cell(summaries[2]));
        }
        AnsiConsole.MarkupLineInterpolated($"[bold]ONNX Runtime profile[/] (3 forwards of batch {input.shape[0]} each, traces and optimized graphs in {folder})");
        AnsiConsole.Write(table);
    }
}
