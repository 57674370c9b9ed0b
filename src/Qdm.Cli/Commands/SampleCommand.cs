using System.CommandLine;
using Qdm.Diffusion;
using Qdm.Sampling;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm sample: N images with DDIM or DDPM into PNGs, a grid and an ADM-style .npz; sharded and resumable.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var sampler = new Option<SamplerKind>("--sampler") { Description = "ddim or ddpm (ancestral).", DefaultValueFactory = _ => SamplerKind.Ddim };
        var steps = new Option<int>("--steps") { Description = "Sampling steps.", DefaultValueFactory = _ => 100 };
        var eta = new Option<double>("--eta") { Description = "DDIM eta (0 = deterministic).", DefaultValueFactory = _ => 0 };
        var skip = new Option<SkipKind?>("--skip") { Description = "Time-step spacing: uniform, quad (ddim repo), even, sections (improved-diffusion). Default: the family's reference." };
        var clip = new Option<bool?>("--clip") { Description = "Clip predicted x0 to [-1, 1] (default: off for DDIM on DDPM models, as the ddim repo; on otherwise)." };
        var n = new Option<int>("--n") { Description = "Number of images in the whole run (all shards).", DefaultValueFactory = _ => 64 };
        var batch = new Option<int>("--batch") { Description = "Images per forward pass.", DefaultValueFactory = _ => 32 };
        var seed = new Option<long>("--seed") { Description = "Run seed; image i's noise depends only on (seed, i).", DefaultValueFactory = _ => 0 };
        var shard = new Option<string>("--shard") { Description = "i/n: generate only the i-th of n disjoint image ranges (0-based).", DefaultValueFactory = _ => "0/1" };
        var noPngs = new Option<bool>("--no-png") { Description = "Skip the per-image PNG files." };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var agreement = new Option<int>("--agreement") { Description = "With --backend ort: first print, per step, ONNX Runtime's output error against TorchSharp on N trajectories.", DefaultValueFactory = _ => 0 };
        var backend = new Option<string>("--backend") { Description = "torchsharp (the reference) or ort (ONNX Runtime: FP32, or integer kernels for quantized models).", DefaultValueFactory = _ => "torchsharp" };
        var workers = SamplingWorkers.CreateOption();


        var command = new Command("sample", "Sample images from a diffusion model (resumes an interrupted run in the same --out).");
        model.AddTo(command);
        foreach (var option in new Option[] { sampler, steps, eta, skip, clip, n, batch, seed, shard, noPngs, output, backend, workers, agreement }) command.Options.Add(option);

        command.SetAction(result => CliErrors.Run(() =>
        {
            var (loaded, _) = model.LoadForInference(result);
            var engine = result.GetValue(backend)!.ToLowerInvariant();
            if (engine == "torch") engine = "torchsharp";
            if (engine is not ("ort" or "torchsharp")) throw new QdmInputException($"unknown --backend '{engine}'; expected torchsharp or ort.");
            var (shardIndex, shardCount) = ParseShard(result.GetValue(shard)!);
            long shardImages = new SampleJobConfig { Count = result.GetValue(n), ShardIndex = shardIndex, ShardCount = shardCount }.Validated().ShardRange().Length;
            var parallelism = SamplingWorkers.Resolve(engine, result.GetValue(model.Threads), result.GetValue(workers))
                .ForBatches((shardImages + result.GetValue(batch) - 1) / Math.Max(1, result.GetValue(batch)));
            using var ort = engine == "ort" ? Export.OrtUNet.Open(loaded.Network, parallelism.ThreadsPerWorker, Workflows.CpuDescription.HasVnni() == true) : null;
            Denoiser? denoiser = ort is null ? null : (x, t) => ort.Forward(x, t);
            var defaults = DiffusionModel.DefaultSamplerFor(loaded.Config.Family, result.GetValue(sampler), result.GetValue(steps), result.GetValue(eta));
            var samplerConfig = defaults with
            {
                Skip = result.GetValue(skip) ?? defaults.Skip,
                ClipDenoised = result.GetValue(clip) ?? defaults.ClipDenoised,
            };
            var job = new SampleJobConfig
            {
                Count = result.GetValue(n), BatchSize = result.GetValue(batch), Seed = result.GetValue(seed),
                ShardIndex = shardIndex, ShardCount = shardCount, WritePngs = !result.GetValue(noPngs), Workers = parallelism.Workers,
            }.Validated();
            var outDir = result.GetValue(output)!;

            AnsiConsole.MarkupLineInterpolated($"[bold]model[/]   {loaded.Source}");
            AnsiConsole.MarkupLineInterpolated($"          {loaded.Config.Describe()}; {loaded.Diffusion.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]sampler[/] {samplerConfig.Describe()}; engine {(ort is null ? "TorchSharp" : "ONNX Runtime")}, {parallelism.Describe()}");
            if (ort is not null && Export.OrtUNet.FusesIntoIntegerKernels(loaded.Network) && Workflows.CpuDescription.HasVnni() == false)
            {
                var weights = loaded.Network.modules().OfType<Quant.QuantLayer>().SelectMany(l => l.WeightQuantizers).Where(q => !q.Spec.PassThrough).ToList();
                int eightBit = weights.Count(q => q.Spec.Bits == 8);
                if (eightBit > 0)
                    AnsiConsole.MarkupLineInterpolated($"[yellow]note[/]    this CPU has no VNNI: ONNX Runtime runs those of the {eightBit} 8-bit weight tensors (of {weights.Count}) whose values leave [[-64, 63]] in its slower u8×u8 kernels (for a whole 8-bit network about FP32 speed; README: Choosing settings); 7-bit weights (qdm quantize --w-bits 7) keep the fast int8 kernels at some cost in quality");
            }
            if (ort is not null && result.GetValue(agreement) is > 0 and var trajectories) PrintAgreement(loaded, denoiser!, samplerConfig, trajectories);
            var (first, length) = job.ShardRange();
            AnsiConsole.MarkupLineInterpolated($"[bold]images[/]  {first}..{first + length - 1} of {job.Count} (shard {shardIndex}/{shardCount}), seed {job.Seed}, batch {job.BatchSize}");

            SampleResult sampled = null!;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("sampling", maxValue: length);
                    var progress = new SynchronousProgress<SampleProgress>(p =>
                    {
                        task.Value = p.Done;
                        task.Description = $"sampling [grey]{Markup.Escape(p.Status())}[/]";
                    });
                    sampled = SampleJob.Run(loaded, samplerConfig, job, outDir, progress, denoiser: denoiser, engine: ort is null ? "torchsharp" : "onnxruntime");
                    task.Value = length;
                });
            long fresh = sampled.Images - sampled.ResumedImages;
            var grid = sampled.GridPath is null ? "" : $", grid {sampled.GridPath}";
            AnsiConsole.MarkupLineInterpolated($"[green]done[/]    {sampled.Images} images → {sampled.SamplesPath}{grid}");
            if (sampled.ResumedImages > 0) AnsiConsole.MarkupLineInterpolated($"          {sampled.ResumedImages} images resumed from earlier batches");
            if (fresh > 0)
                AnsiConsole.MarkupLineInterpolated($"          {fresh / sampled.Seconds:F2} images/s ({sampled.Seconds / fresh / samplerConfig.Steps * 1000:F1} ms per image per forward)");
            return 0;
        }));
        return command;
    }

    /// <summary>ONNX Runtime against TorchSharp (the simulated model for .qdm files) on TorchSharp's own trajectories, step by step.</summary>
    private static void PrintAgreement(DiffusionModel model, Denoiser ort, SamplerConfig sampler, int trajectories)
    {
        var steps = Reconstruction.StepErrors.Measure(model, ort, sampler, trajectories, seed: 1_234_567);
        var table = new Table().AddColumns("step", "t", "MSE (ORT vs TorchSharp)", "relative");
        foreach (var s in steps) table.AddRow(s.Step.ToString(), s.Timestep.ToString(), $"{s.Mse:E3}", $"{s.Relative:E3}");
        AnsiConsole.MarkupLineInterpolated($"[bold]agreement[/] ONNX Runtime vs TorchSharp on {trajectories} trajectories (same x_t at every step):");
        AnsiConsole.Write(table);
    }

    private static (int Index, int Count) ParseShard(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n))
            throw new QdmInputException($"--shard must look like i/n (e.g. 0/4), got '{text}'.");
        return (i, n);
    }
}
