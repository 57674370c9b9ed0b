using System.CommandLine;
using System.Diagnostics;
using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Placement;
using Qdm.Quant;
using Qdm.Reconstruction;
using Qdm.Sampling;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Commands;

/// <summary>
/// qdm quantize: calibration data → placement → activation ranges → block reconstruction → quantized model file, with
/// per-unit progress, the per-step output error before and after reconstruction, and the wall time. Resumes from --work.
/// </summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var placement = new PlacementOptions();
        var method = new Option<QuantMethod>("--method") { Description = "ptq4dm, di2n, qdiffusion, int8 or custom: a named bundle; the options below override its parts. int8 = DI2N in integer kernels with x_t and the softmax probabilities FP and bias correction (README: Choosing settings).", DefaultValueFactory = _ => QuantMethod.Custom };
        var calib = new Option<CalibrationScheme?>("--calib") { Description = "Calibration data: uniform, normal (NDTC), di2n (generate then diffuse), data." };
        var calibTimesteps = new Option<TimestepDistributionKind?>("--calib-timesteps") { Description = "For di2n/data: uniform or normal time steps." };
        var calibSamples = new Option<int?>("--calib-samples") { Description = "Calibration samples (network inputs)." };
        var calibSteps = new Option<int?>("--calib-steps") { Description = "Steps of the FP DDIM trajectories (default 100)." };
        var calibPositions = new Option<int?>("--calib-positions") { Description = "Uniform: positions per trajectory (Q-Diffusion: 20)." };
        var calibData = new Option<string?>("--calib-data") { Description = "Real images for --calib data: " + Metrics.ImageSources.Formats + "." };
        var recon = new Option<ReconstructionGranularity?>("--recon") { Description = "block (BRECQ) or layer (AdaRound); --iters 0 skips reconstruction." };
        var iters = new Option<int?>("--iters") { Description = "Reconstruction iterations per unit (published: 20000; PTQ4DM scripts: 100)." };
        var reconBatch = new Option<int?>("--recon-batch") { Description = "Reconstruction batch size (32)." };
        var qdrop = new Option<double?>("--qdrop") { Description = "QDrop probability (0 = BRECQ)." };
        var lsq = new Option<double?>("--lsq-lr") { Description = "Learn activation step sizes at this rate (LSQ)." };
        var roundWeight = new Option<double?>("--round-weight") { Description = "Rounding regulariser weight (0.01)." };
        var reconLr = new Option<double?>("--recon-lr") { Description = "Adam learning rate of the AdaRound variables (1e-3)." };
        var seed = new Option<long>("--seed") { Description = "Seed of calibration data and reconstruction.", DefaultValueFactory = _ => 0 };
        var biasCorrection = new Option<bool>("--bias-correction") { Description = "After reconstruction, correct each layer's bias for the mean output shift of its rounded weights (Nagel et al. 2019), on the calibration data." };
        var evalImages = new Option<int>("--eval-images") { Description = "Trajectories for the per-step error report.", DefaultValueFactory = _ => 4 };
        var work = new Option<string?>("--work") { Description = "Folder for calibration data and reconstruction state (resumable). Default: OUT.work/." };
        var output = new Option<string>("--out") { Description = "Quantized model file (.qdm: integer weights, steps, architecture; reloads without the FP checkpoint).", Required = true };

        var command = new Command("quantize", "Quantize a model: calibrate, reconstruct, save.");
        model.AddTo(command);
        placement.AddTo(command);
        foreach (var o in new Option[] { method, calib, calibTimesteps, calibSamples, calibSteps, calibPositions, calibData, recon, iters, reconBatch, qdrop, lsq, roundWeight, reconLr, seed, biasCorrection, evalImages, work, output })
            command.Options.Add(o);

        command.SetAction(result => CliErrors.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var fp = model.Load(result);
            var toQuantize = model.Load(result);
            var preset = MethodPresets.For(result.GetValue(method), fp.Config);
            var placementConfig = placement.Over(preset.Placement, result);
            var scheme = result.GetValue(calib) ?? preset.Calibration.Scheme;
            var timesteps = preset.Calibration.Timesteps with
            {
                Kind = result.GetValue(calibTimesteps) ?? (scheme == CalibrationScheme.Normal ? TimestepDistributionKind.Normal
                    : scheme == CalibrationScheme.Uniform ? TimestepDistributionKind.Uniform : preset.Calibration.Timesteps.Kind),
                UniformPositions = result.GetValue(calibPositions) ?? preset.Calibration.Timesteps.UniformPositions,
            };
            var calibration = preset.Calibration with
            {
                Scheme = scheme, Timesteps = timesteps, Seed = result.GetValue(seed),
                Samples = result.GetValue(calibSamples) ?? preset.Calibration.Samples,
                SamplingSteps = result.GetValue(calibSteps) ?? preset.Calibration.SamplingSteps,
                DataPath = result.GetValue(calibData),
            };
            var reconstruction = preset.Reconstruction with
            {
                Granularity = result.GetValue(recon) ?? preset.Reconstruction.Granularity,
                Iterations = result.GetValue(iters) ?? preset.Reconstruction.Iterations,
                BatchSize = result.GetValue(reconBatch) ?? preset.Reconstruction.BatchSize,
                DropProbability = result.GetValue(qdrop) ?? preset.Reconstruction.DropProbability,
                ActivationLearningRate = result.GetValue(lsq) ?? preset.Reconstruction.ActivationLearningRate,
                RoundingWeight = result.GetValue(roundWeight) ?? preset.Reconstruction.RoundingWeight,
                WeightLearningRate = result.GetValue(reconLr) ?? preset.Reconstruction.WeightLearningRate,
                Seed = result.GetValue(seed),
            };
            var outPath = result.GetValue(output)!;
            var workDir = result.GetValue(work) ?? outPath + ".work";
            Directory.CreateDirectory(workDir);

            AnsiConsole.MarkupLineInterpolated($"[bold]model[/]          {fp.Source}: {fp.Config.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]method[/]         {result.GetValue(method)}");
            AnsiConsole.MarkupLineInterpolated($"[bold]placement[/]      {placementConfig.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]calibration[/]    {calibration.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]reconstruction[/] {reconstruction.Describe()}");

            var job = new Workflows.QuantizationJob(placementConfig, calibration, reconstruction) { EvalImages = result.GetValue(evalImages), BiasCorrection = result.GetValue(biasCorrection) || preset.BiasCorrection };
            var outcome = RunWithProgress(fp, toQuantize, job, workDir,
                calibration.DataPath is null ? null : n => Metrics.ImageSources.Open(calibration.DataPath, n).Batches(calibration.Batch));
            var (q, units, before, after) = (outcome.Model, outcome.Units.ToList(), outcome.Before, outcome.After);

            double seconds = clock.Elapsed.TotalSeconds;   // the whole command, model loading included
            var sourcePath = Path.GetFullPath(result.GetValue(model.Model) ?? ModelOptions.BuiltInPath);
            Export.CompactModelFile.Save(outPath, q, fp.Diffusion, new Dictionary<string, string>
            {
                ["source"] = fp.Source,
                ["source_sha256"] = File.Exists(sourcePath) ? IO.FileHash.Sha256(sourcePath) : "",
                ["method"] = result.GetValue(method).ToString(),
                ["calibration"] = calibration.Describe(),
                ["reconstruction"] = reconstruction.Describe(),
                ["bias_correction"] = job.BiasCorrection ? "true" : "false",
                ["seconds"] = seconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
            });
            File.WriteAllText(Path.Combine(workDir, "quantizers.csv"), QuantReport.ToCsv(QuantReport.Build(q)));
            PrintSummary(q, units, before, after, seconds, outcome.Times, outPath);
            return 0;
        }));
        return command;
    }

    /// <summary>Runs the workflow with a progress bar per stage; shared with qdm reproduce.</summary>
    public static Workflows.QuantizationOutcome RunWithProgress(DiffusionModel fp, DiffusionModel toQuantize, Workflows.QuantizationJob job,
        string workDir, Func<int, IEnumerable<Tensor>>? images = null, string? label = null, string? calibrationFolder = null)
    {
        Workflows.QuantizationOutcome outcome = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var prefix = label is null ? "" : label + ": ";
                var calibrationTask = ctx.AddTask(Markup.Escape(prefix + "calibration data"), maxValue: 1);
                var calibrationClock = System.Diagnostics.Stopwatch.StartNew();
                var reconstructionTask = job.Reconstruction.Iterations > 0 ? ctx.AddTask(Markup.Escape(prefix + "reconstruction"), maxValue: 1) : null;
                int unitIndex = 0;
                var progress = new Workflows.QuantizationProgress
                {
                    Calibration = new SynchronousProgress<(int Done, int Total)>(p =>
                    {
                        calibrationTask.MaxValue = p.Total;
                        calibrationTask.Value = p.Done;
                        // Logs render only the description: say how far, and how long at the rate since the start (Spectre's
                        // own estimate needs several updates and reads "~0 s left" after the first of a few slow batches).
                        var left = IO.Durations.Left(calibrationClock.Elapsed.TotalSeconds, p.Done, p.Total) is { } l ? ", " + l : "";
                        calibrationTask.Description = Markup.Escape($"{prefix}calibration data {p.Done}/{p.Total}{left}");
                    }),
                    CalibrationReady = (data, reused) =>
                    {
                        if (reused) AnsiConsole.MarkupLineInterpolated($"[grey]{prefix}reusing the calibration data in {calibrationFolder ?? workDir}[/]");
                        calibrationTask.Value = calibrationTask.MaxValue;
                        Plots.TimestepHistogram(data, Path.Combine(workDir, "calibration_timesteps.png"), job.Calibration.Describe());
                    },
                    RangesObserved = q => Plots.ActivationRanges(q, Path.Combine(workDir, "activation_ranges.png")),
                    Units = new SynchronousProgress<UnitResult>(u =>
                    {
                        if (reconstructionTask is null) return;
                        unitIndex = u.Index + 1;
                        reconstructionTask.MaxValue = u.Count;
                        reconstructionTask.Value = u.Index + 1;
                        reconstructionTask.Description = Markup.Escape($"{prefix}unit {u.Index + 1}/{u.Count} {u.Path}{(u.Resumed ? " (resumed)" : $" {u.MseBefore:E2}→{u.MseAfter:E2}")}");
                    }),
                    Iterations = (step, total) => { if (step % 10 == 0 && reconstructionTask is not null) reconstructionTask.Value = unitIndex + (double)step / total; },
                };
                outcome = Workflows.QuantizationWorkflow.Run(fp, toQuantize, job, workDir, progress, images, calibrationFolder);
                if (reconstructionTask is not null) reconstructionTask.Value = reconstructionTask.MaxValue;
            });
        return outcome;
    }

    private static double Median(IReadOnlyList<StepError> steps) => steps.Select(s => s.Relative).Order().ElementAt(steps.Count / 2);

    private static void PrintSummary(QuantizedUNet q, List<UnitResult> units, IReadOnlyList<StepError> before, IReadOnlyList<StepError> after, double seconds, Workflows.QuantizationTimes times, string outPath)
    {
        var steps = new Table().AddColumns("step", "t", "rel. MSE vs FP: ranges only", "after reconstruction");
        int stride = Math.Max(1, before.Count / 10);
        foreach (int i in Enumerable.Range(0, before.Count).Where(i => i % stride == 0 || i == before.Count - 1))
            steps.AddRow(before[i].Step.ToString(), before[i].Timestep.ToString(), $"{before[i].Relative:E3}", $"{after[i].Relative:E3}");
        AnsiConsole.Write(steps);
        AnsiConsole.MarkupLineInterpolated($"mean relative output MSE over {before.Count} steps: {before.Average(s => s.Relative):E3} (ranges only) → {after.Average(s => s.Relative):E3} (final); median {Median(before):E3} → {Median(after):E3}");
        var fresh = units.Where(u => !u.Resumed).ToList();
        if (fresh.Count > 0)
        {
            var table = new Table().AddColumns("unit", "MSE nearest rounding", "MSE reconstructed", "seconds");
            foreach (var u in fresh.OrderByDescending(u => u.MseBefore).Take(12))
                table.AddRow(Markup.Escape(u.Path), $"{u.MseBefore:E3}", $"{u.MseAfter:E3}", $"{u.Seconds:F1}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"{fresh.Count(u => u.MseAfter < u.MseBefore)} of {fresh.Count} units improved");
        }
        if (units.Count > fresh.Count) AnsiConsole.MarkupLineInterpolated($"{units.Count - fresh.Count} units resumed from the work folder");
        AnsiConsole.MarkupLineInterpolated($"quantizers: {q.Weights.Count()} weight, {q.Activations.Count()} activation (every one, with bits, range and step: quantizers.csv in the work folder)");
        AnsiConsole.MarkupLineInterpolated($"[green]wrote[/] {outPath} in {seconds:F0} s (whole run, this process; {times.Describe()})");
    }
}
