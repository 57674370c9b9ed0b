using System.CommandLine;
using Qdm.Cli.Reproduce;
using Qdm.Workflows;
using Spectre.Console;

namespace Qdm.Cli.Commands;

/// <summary>qdm reproduce: the seed table (FP vs PTQ4DM vs DI2N, W8A8 and W4A8), the time-step calibration finding and the DI2N ablation, end to end.</summary>
public static class ReproduceCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var defaults = new ReproductionScale();
        var samples = new Option<int>("--samples") { Description = "Images per row (the same seeds for every row).", DefaultValueFactory = _ => defaults.Samples };
        var steps = new Option<int>("--steps") { Description = "DDIM steps (eta 0) for sampling and for the calibration trajectories.", DefaultValueFactory = _ => defaults.Steps };
        var seeds = new Option<int>("--seeds") { Description = "Calibration seeds K for the W8A8 PTQ4DM and DI2N rows (reported as mean ± std).", DefaultValueFactory = _ => defaults.Seeds };
        var calibSamples = new Option<int>("--calib-samples") { Description = "Calibration samples per quantized model (published: 1024).", DefaultValueFactory = _ => defaults.CalibrationSamples };
        var iters = new Option<int>("--iters") { Description = "Reconstruction iterations per unit (0 = ranges only, what PTQ4DM's scripts effectively ran; BRECQ: 20000).", DefaultValueFactory = _ => defaults.Iterations };
        var seed = new Option<long>("--sample-seed") { Description = "Seed of the sampling noise (image i depends only on it and i).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images per sampling forward.", DefaultValueFactory = _ => 16 };
        var backend = new Option<string>("--backend") { Description = "ort (ONNX Runtime for every row; measured on 2-core Zen 3 and Zen 4 machines: 1.1–1.5× TorchSharp's speed for FP32, 1.3–2× for quantized rows, which TorchSharp simulates) or torchsharp.", DefaultValueFactory = _ => "ort" };
        var reference = new Option<string?>("--ref") { Description = "ResNet-18 reference statistics (qdm stats --features r18) for FD-R18, sFD-R18, KID, precision/recall." };
        var referenceImages = new Option<string?>("--ref-images") { Description = "Or the reference images themselves (" + Metrics.ImageSources.Formats + "); statistics are cached in --out." };
        var referenceLimit = new Option<long?>("--ref-limit") { Description = "Use only the first N reference images." };
        var inception = new Option<string?>("--inception") { Description = $"FID Inception weights ({Metrics.Inception.InceptionWeights.FileName}): adds IS, FID, sFID." };
        var referenceInception = new Option<string?>("--ref-inception") { Description = "Inception reference statistics (else computed from --ref-images)." };
        var workers = SamplingWorkers.CreateOption();
        var bootstrap = new Option<int>("--bootstrap") { Description = "Paired-bootstrap replicates per row: the sampling noise of every gap the reading states (0 = off).", DefaultValueFactory = _ => 100 };
        var only = new Option<string?>("--only") { Description = "Compute only these rows, by the plan's keys (comma-separated, e.g. ptq4dm-w8a8-s0,di2n-w8a8-s0; fp is always computed); the report shows every row, the others with what earlier runs finished." };
        var reportOnly = new Option<bool>("--report-only") { Description = "Only write report.md from what earlier runs finished (for long runs over several sessions)." };
        var output = new Option<string>("--out") { Description = "Run folder (resumes: finished models, sample batches and metrics are reused).", DefaultValueFactory = _ => "runs/reproduce" };

        var command = new Command("reproduce", "Reproduce the seed table on a model: quantize with PTQ4DM and DI2N (W8A8, W4A8), the calibration finding and the DI2N ablation; sample, measure, write report.md.");
        model.AddTo(command);
        foreach (var o in new Option[] { samples, steps, seeds, calibSamples, iters, seed, batch, backend, workers, bootstrap, reference, referenceImages, referenceLimit, inception, referenceInception, only, reportOnly, output })
            command.Options.Add(o);
        command.SetAction(result => CliErrors.Run(() =>
        {
            var engine = result.GetValue(backend)!.ToLowerInvariant();
            if (engine is not ("ort" or "torchsharp")) throw new QdmInputException($"unknown --backend '{engine}'; expected ort or torchsharp.");
            if (result.GetValue(inception) is { } weights && !File.Exists(weights)) throw new QdmInputException($"Inception weights not found: {weights}");
            var settings = new ReproduceSettings
            {
                OutDir = result.GetValue(output)!,
                Scale = new ReproductionScale
                {
                    Samples = result.GetValue(samples), Steps = result.GetValue(steps), Seeds = result.GetValue(seeds),
                    CalibrationSamples = result.GetValue(calibSamples), Iterations = result.GetValue(iters), SampleSeed = result.GetValue(seed),
                }.Validated(),
                Backend = engine,
                Threads = Math.Max(1, result.GetValue(model.Threads)),
                Sampling = SamplingWorkers.Resolve(engine, result.GetValue(model.Threads), result.GetValue(workers)),
                Batch = result.GetValue(batch),
                ReferenceR18 = result.GetValue(reference),
                ReferenceImages = result.GetValue(referenceImages),
                ReferenceLimit = result.GetValue(referenceLimit),
                InceptionWeights = result.GetValue(inception),
                ReferenceInception = result.GetValue(referenceInception),
                Only = result.GetValue(only)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                ReportOnly = result.GetValue(reportOnly),
                BootstrapReplicates = result.GetValue(bootstrap) >= 0 ? result.GetValue(bootstrap) : throw new QdmInputException($"--bootstrap must be ≥ 0, got {result.GetValue(bootstrap)}."),
            };
            var fp = model.Load(result);
            AnsiConsole.MarkupLineInterpolated($"[bold]model[/] {fp.Identity}: {fp.Config.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]scale[/] {settings.Scale.Describe()}");
            var report = new ReproduceRunner(settings, fp, () => model.Load(result)).Run();
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/] {report}");
            return 0;
        }));
        return command;
    }
}
