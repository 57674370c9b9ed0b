using System.CommandLine;
using System.Globalization;
using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.IO;
using Qdm.Placement;
using Qdm.Reconstruction;
using Qdm.Sampling;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Commands;

/// <summary>
/// qdm inspect: quantize with a placement, set activation ranges by min-max on a few FP trajectories, then report every
/// quantizer (table + CSV), the per-step output error against the FP model, and activation ranges across time steps (PNG).
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new ModelOptions();
        var placement = new PlacementOptions();
        var calibImages = new Option<int>("--calib-images") { Description = "Trajectories used to set activation ranges (min-max).", DefaultValueFactory = _ => 8 };
        var evalImages = new Option<int>("--eval-images") { Description = "Trajectories (other seeds) on which the output error is measured.", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of those trajectories.", DefaultValueFactory = _ => 20 };
        var seed = new Option<long>("--seed") { Description = "Seed of the calibration trajectories (evaluation uses seed + 1).", DefaultValueFactory = _ => 0 };
        var biasCorrection = new Option<bool>("--bias-correction") { Description = "Correct each quantized layer's bias for the mean output shift its rounded weights cause (Nagel et al. 2019), measured on the calibration trajectories." };
        var top = new Option<int>("--top") { Description = "Quantizers listed in the console (worst SQNR first); all go to the CSV.", DefaultValueFactory = _ => 15 };
        var output = new Option<string>("--out") { Description = "Folder for quantizers.csv, per_step_error.csv, activation_ranges.png.", Required = true };
        var command = new Command("inspect", "Quantize with a placement and min-max ranges; report quantizers, per-step error and activation ranges.");
        model.AddTo(command);
        placement.AddTo(command);
        foreach (var o in new Option[] { calibImages, evalImages, steps, seed, biasCorrection, top, output }) command.Options.Add(o);

        command.SetAction(result => CliErrors.Run(() =>
        {
            var fp = model.Load(result);
            var quantizedCopy = model.Load(result);
            var config = placement.Build(result);
            var sampler = DiffusionModel.DefaultSamplerFor(fp.Config.Family, SamplerKind.Ddim, result.GetValue(steps));
            var outDir = result.GetValue(output)!;
            Directory.CreateDirectory(outDir);
            AnsiConsole.MarkupLineInterpolated($"[bold]model[/]     {fp.Source}: {fp.Config.Describe()}");
            AnsiConsole.MarkupLineInterpolated($"[bold]placement[/] {config.Describe()}");

            var calibration = TrajectoryCollector.Collect(fp, sampler, result.GetValue(calibImages), 8, result.GetValue(seed));
            var q = Quantization.Quantize(quantizedCopy.Network, config);
            AnsiConsole.MarkupLineInterpolated($"[bold]quantizers[/] {q.Weights.Count()} weight, {q.Entries.Count(e => e.Tensor == QuantTensor.Input)} layer-input, {q.Entries.Count(e => e.Tensor == QuantTensor.Output)} layer-output, {q.Entries.Count(e => e.Tensor == QuantTensor.Slot)} slot (attention matmuls, time embedding)");

            using (no_grad())
            using (var observation = q.Observe())
                foreach (var (t, x, modelTime) in calibration.ByTimestep())
                {
                    observation.Timestep = t;
                    q.Network.call(x, modelTime).Dispose();
                }
            AnsiConsole.MarkupLineInterpolated($"[bold]calibrated[/] activation ranges by min-max on {calibration.Count} inputs ({result.GetValue(calibImages)} trajectories × {sampler.Steps} steps)");

            if (result.GetValue(biasCorrection))
                AnsiConsole.MarkupLineInterpolated($"[bold]bias correction[/] {BiasCorrection.Apply(q, calibration)} layers corrected on the same trajectories");

            var probes = QuantReport.AttachProbes(q);
            var perStep = StepErrors.Measure(fp, q.Network, sampler, result.GetValue(evalImages), result.GetValue(seed) + 1);
            QuantReport.DetachProbes(q);
            var rows = QuantReport.Build(q, probes);

            var stepTable = new Table().AddColumns("step", "t", "output MSE vs FP", "relative MSE", "mean offset per channel", "offset share of MSE");
            foreach (var s in perStep)
                stepTable.AddRow(s.Step.ToString(), s.Timestep.ToString(), $"{s.Mse:E3}", $"{s.Relative:E3}", Offsets(s.ChannelOffset!), $"{s.OffsetShare:P1}");
            AnsiConsole.Write(stepTable);
            AnsiConsole.MarkupLineInterpolated($"mean output MSE over steps {perStep.Average(s => s.Mse):E3} (relative {perStep.Average(s => s.Relative):E3}); teacher-forced on the FP trajectory's x_t, {result.GetValue(evalImages)} images");
            var meanOffset = Enumerable.Range(0, perStep[0].ChannelOffset!.Count).Select(c => perStep.Average(s => s.ChannelOffset![c])).ToList();
            AnsiConsole.MarkupLineInterpolated($"mean output offset per channel over steps {Offsets(meanOffset)} (a consistent offset in the predicted noise accumulates along the trajectory into a colour cast)");

            var worst = new Table().AddColumns("path", "tensor", "quantizer", "range", "mean step", "SQNR dB");
            foreach (var r in rows.Where(r => !double.IsNaN(r.SqnrDb)).OrderBy(r => r.SqnrDb).Take(result.GetValue(top)))
                worst.AddRow(Markup.Escape(r.Path), r.Tensor.ToString(), Markup.Escape(r.Spec), Markup.Escape($"[{r.RangeLow:G3}, {r.RangeHigh:G3}]"), $"{r.MeanStep:G3}", $"{r.SqnrDb:F1}");
            AnsiConsole.Write(worst);

            File.WriteAllText(Path.Combine(outDir, "quantizers.csv"), QuantReport.ToCsv(rows));
            File.WriteAllText(Path.Combine(outDir, "per_step_error.csv"), "step,t,mse,relative_mse,offset_share," +
                string.Join(",", meanOffset.Select((_, c) => $"offset_c{c}")) + "\n" +
                string.Concat(perStep.Select(s => string.Create(CultureInfo.InvariantCulture,
                    $"{s.Step},{s.Timestep},{s.Mse:G6},{s.Relative:G6},{s.OffsetShare:G6},{string.Join(",", s.ChannelOffset!.Select(v => v.ToString("G6", CultureInfo.InvariantCulture)))}\n"))));
            Plots.ActivationRanges(q, Path.Combine(outDir, "activation_ranges.png"));
            AnsiConsole.MarkupLineInterpolated($"[green]wrote[/] {outDir}/quantizers.csv ({rows.Count} rows), per_step_error.csv, activation_ranges.png");
            return 0;
        }));
        return command;
    }

    private static string Offsets(IEnumerable<double> values) => string.Join(" / ", values.Select(v => v.ToString("+0.0E+0;-0.0E+0", CultureInfo.InvariantCulture)));
}
