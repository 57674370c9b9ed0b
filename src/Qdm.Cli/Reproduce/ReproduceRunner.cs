using System.Diagnostics;
using Qdm.Cli.Commands;
using Qdm.Diffusion;
using Qdm.Export;
using Qdm.Sampling;
using Qdm.Workflows;
using Spectre.Console;

namespace Qdm.Cli.Reproduce;

/// <summary>
/// Runs the reproduction plan stage by stage: quantize every distinct row (.qdm + record), sample every row from the
/// same seeds, check ONNX Runtime against the simulated model, measure every set, write report.md. Each stage skips
/// what a previous run finished (records, .qdm files, sample batches, metric files), so the command resumes.
/// </summary>
public sealed class ReproduceRunner(ReproduceSettings settings, DiffusionModel fp, Func<DiffusionModel> loadFresh)
{
    private readonly ReproduceFolder folder = new(settings.OutDir);
    private string Out(params string[] parts) => folder.Under(parts);
    private string SamplesFile(string key) => folder.SamplesFile(key);

    public string Run()
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(settings.OutDir);
        var rows = ReproductionPlan.For(fp.Config, settings.Scale.Validated());
        var computations = ReproductionPlan.Computations(rows);
        AnsiConsole.MarkupLineInterpolated($"[bold]plan[/] {rows.Count} rows, {computations.Count} distinct computations: {string.Join(", ", computations.Select(c => c.Key))}");
        var selected = ReproductionPlan.Only(computations, settings.Only);
        if (selected.Count < computations.Count)
            AnsiConsole.MarkupLineInterpolated($"[bold]only[/] {string.Join(", ", selected.Select(c => c.Key))} (--only); the other rows keep what earlier runs finished");

        if (!settings.ReportOnly)
        {
            // Row by row, each quantized just before it is sampled: a run resumed from committed results (records and
            // finished sample sets, without the large .qdm files) starts sampling at once instead of re-quantizing
            // every row first, and rows whose sets are finished are not quantized again at all.
            foreach (var row in ReproductionPlan.SamplingOrder(selected))
            {
                if (row.Job is not null) Quantize(row);
                if (Sample(row))
                    WriteReport(rows, computations, clock);   // a run over many sessions keeps report.md current, row by row (FP's metrics included)
            }
        }
        return WriteReport(rows, computations, clock);
    }

    private string WriteReport(IReadOnlyList<ReproductionRow> rows, IReadOnlyList<ReproductionRow> computations, Stopwatch clock)
    {
        var results = new Dictionary<string, RowResults>();
        // samples.npz appears only when a set is complete; unfinished sets are left out of the metrics.
        var finished = computations.Where(r => File.Exists(SamplesFile(r.Key))).ToList();
        var references = new Dictionary<string, string?>();
        var metrics = finished.Any(r => r.Job is null) ? new ReproduceEvaluation(settings, folder).Measure(finished, out references) : new Dictionary<string, List<MetricsRecord>>();
        foreach (var row in computations)
            results[row.Key] = new RowResults(
                ResultFiles.Read<QuantizationRecord>(QuantRecordPath(row)),
                ResultFiles.Read<AgreementRecord>(Out("quant", row.Key + ".agreement.json")),
                ResultFiles.Read<SamplingRecord>(Out("samples", row.Key, "sampling.json")),
                metrics.GetValueOrDefault(row.Key) ?? new List<MetricsRecord>());

        var figures = ReproducePlots.Write(settings.OutDir, rows, computations, results);
        var context = new ReportContext
        {
            Model = $"{fp.Identity} ({fp.Config.Describe()}; {fp.Diffusion.Describe()})",
            Scale = settings.Scale,
            Engine = settings.Backend == "ort"
                ? "ONNX Runtime for every row (FP32 graph; quantized rows as QDQ graphs of the reloaded .qdm files, weights on their 8- or 4-bit grid, Q/DQ run as float ops with the weights folded wherever layer outputs are not quantized (nothing can fuse there: every row of the seed's placements), and as fused int8 kernels (QLinearConv, QGemm) for rows in the integer-kernel form); the ORT-vs-simulated column checks it"
                : "TorchSharp (FP32 eager; quantized rows as simulated quantization of the reloaded .qdm files)",
            // A --report-only run computes nothing: its own threads say nothing about how the rows were made.
            Machine = $"{Environment.ProcessorCount} CPU threads, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, " +
                      (settings.ReportOnly ? "report written by --report-only from rows computed by earlier runs of the command"
                                           : $"{SamplingWorkers.Threads(settings.Threads)} used (sampling: {settings.Sampling.Describe()})"),
            References = references,
            WallSeconds = clock.Elapsed.TotalSeconds,
            Figures = figures,
            SampledImages = computations.ToDictionary(r => r.Key, r => folder.SampledImages(r.Key, settings.Scale.Samples)),
        };
        var reportPath = Out("report.md");
        IO.AtomicFile.WriteAllText(reportPath, ReproductionReport.Markdown(rows, results, context));
        return reportPath;
    }

    private string QuantPath(ReproductionRow row) => Out("quant", row.Key + ".qdm");
    private string QuantRecordPath(ReproductionRow row) => Out("quant", row.Key + ".json");

    private void Quantize(ReproductionRow row)
    {
        var job = row.Job!;
        var existing = ResultFiles.Read<QuantizationRecord>(QuantRecordPath(row));
        if (existing?.Settings == job.Describe() && File.Exists(QuantPath(row)))
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]{row.Key}: quantized model reused ({QuantPath(row)})[/]");
            return;
        }
        if (existing?.Settings == job.Describe() && IsFinished(row))
        {
            AnsiConsole.MarkupLineInterpolated($"[grey]{row.Key}: samples and records finished with these settings; not quantized again[/]");
            return;
        }
        if (existing is not null && existing.Settings != job.Describe()) DiscardProductsOf(row.Key);
        Directory.CreateDirectory(Out("quant"));
        AnsiConsole.MarkupLineInterpolated($"[bold]{row.Key}[/] quantize: {job.Describe()}");
        var outcome = QuantizeCommand.RunWithProgress(fp, loadFresh(), job, Out("quant", row.Key + ".work"), label: row.Key,
            calibrationFolder: Out("calibration"));   // rows with equal calibration settings share one set
        CompactModelFile.Save(QuantPath(row), outcome.Model, fp.Diffusion, new Dictionary<string, string>
        {
            ["source"] = fp.Identity,
            ["method"] = row.Method,
            ["calibration"] = job.Calibration.Describe(),
            ["reconstruction"] = job.Reconstruction.Describe(),
            ["seconds"] = outcome.Seconds.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
        });
        ResultFiles.Write(QuantRecordPath(row), new QuantizationRecord
        {
            Settings = job.Describe(),
            Seconds = outcome.Seconds,
            FileBytes = new FileInfo(QuantPath(row)).Length,
            Fp32Bytes = fp.Network.parameters().Sum(p => p.numel()) * 4,
            Units = outcome.Units.Count(u => !u.Resumed),
            UnitsImproved = outcome.Units.Count(u => !u.Resumed && u.MseAfter < u.MseBefore),
            Before = outcome.Before,
            After = outcome.After,
            Cpu = CpuDescription.Current(),
            Times = outcome.Times,
        });
        AnsiConsole.MarkupLineInterpolated($"          rel. output MSE vs FP (mean over steps) {outcome.Before.Average(s => s.Relative):E3} → {outcome.After.Average(s => s.Relative):E3}, {outcome.Seconds:F0} s ({outcome.Times.Describe()})");
    }

    /// <summary>
    /// A row whose settings changed since an earlier run is quantized again; its samples, ORT agreement check and
    /// metrics belong to the old model and are removed (sampling would otherwise refuse the folder, or worse, mix them).
    /// </summary>
    private void DiscardProductsOf(string key)
    {
        if (Directory.Exists(Out("samples", key))) Directory.Delete(Out("samples", key), recursive: true);
        File.Delete(Out("quant", key + ".agreement.json"));
        if (Directory.Exists(Out("eval")))
            foreach (var file in Directory.EnumerateFiles(Out("eval"), key + ".*")) File.Delete(file);
        AnsiConsole.MarkupLineInterpolated($"[yellow]{key}: settings changed since the last run; its old samples, agreement check and metrics were removed[/]");
    }

    private SamplerConfig Sampler => DiffusionModel.DefaultSamplerFor(fp.Config.Family, SamplerKind.Ddim, settings.Scale.Steps);

    /// <summary>Samples the row's set (resuming finished batches); true when this call made new images.</summary>
    private bool Sample(ReproductionRow row)
    {
        if (IsFinished(row)) return false;
        // Quantized rows sample the reloaded file: exactly what a user deploys.
        var model = row.Job is null ? fp : LoadQuantized(row);
        var parallelism = settings.Sampling.ForBatches((settings.Scale.Samples + settings.Batch - 1) / settings.Batch);
        using var ort = settings.Backend == "ort" ? OrtUNet.Open(model.Network, parallelism.ThreadsPerWorker, CpuDescription.HasVnni() == true) : null;
        Denoiser? denoiser = ort is null ? null : (x, t) => ort.Forward(x, t);
        if (ort is not null && row.Job is not null) CheckAgreement(row, model, denoiser!);

        var dir = Out("samples", row.Key);
        var job = new SampleJobConfig { Count = settings.Scale.Samples, BatchSize = settings.Batch, Seed = settings.Scale.SampleSeed, WritePngs = false, Workers = parallelism.Workers };
        SampleResult sampled = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"{row.Key}: sampling"), maxValue: job.Count);
                sampled = SampleJob.Run(model, Sampler, job, dir, new SynchronousProgress<SampleProgress>(p =>
                {
                    task.Value = p.Done;
                    task.Description = Markup.Escape($"{row.Key}: sampling {p.Status()}");
                }), denoiser: denoiser, engine: ort is null ? "torchsharp" : "onnxruntime");
                task.Value = job.Count;
            });
        long fresh = sampled.Images - sampled.ResumedImages;
        var recordPath = Path.Combine(dir, "sampling.json");
        if (fresh > 0 || !File.Exists(recordPath))
            ResultFiles.Write(recordPath, new SamplingRecord
            {
                Engine = ort is null ? "torchsharp" : "onnxruntime", Images = sampled.Images, Seconds = sampled.Seconds, FreshImages = fresh,
                Cpu = CpuDescription.Current(),
            });
        return fresh > 0;
    }

    /// <summary>The row's set is complete and, for a quantized row sampled through ORT, its agreement check is recorded: nothing left that needs the model.</summary>
    private bool IsFinished(ReproductionRow row) =>
        File.Exists(SamplesFile(row.Key)) && File.Exists(Out("samples", row.Key, "sampling.json"))
        && (row.Job is null || settings.Backend != "ort" || File.Exists(Out("quant", row.Key + ".agreement.json")));

    private DiffusionModel LoadQuantized(ReproductionRow row)
    {
        var (quantized, diffusion, _) = CompactModelFile.Load(QuantPath(row));
        return new DiffusionModel(quantized.Network, diffusion, QuantPath(row)) { Identity = IO.FileHash.Identity(QuantPath(row)) }.Validated();
    }

    /// <summary>Per-step error of ONNX Runtime against the simulated model on FP-trajectory inputs, next to the simulated model's own error vs FP.</summary>
    private void CheckAgreement(ReproductionRow row, DiffusionModel simulated, Denoiser ort)
    {
        var path = Out("quant", row.Key + ".agreement.json");
        if (ResultFiles.Read<AgreementRecord>(path) is not null) return;
        long seed = 2_000_003;
        var record = new AgreementRecord
        {
            Engine = "onnxruntime",
            OrtVsSimulated = Reconstruction.StepErrors.Measure(fp, ort, Sampler, settings.AgreementImages, seed, reference: simulated.Denoiser),
            SimulatedVsFp = Reconstruction.StepErrors.Measure(fp, simulated.Denoiser, Sampler, settings.AgreementImages, seed),
            OrtVsFp = Reconstruction.StepErrors.Measure(fp, ort, Sampler, settings.AgreementImages, seed),
        };
        ResultFiles.Write(path, record);
        AnsiConsole.MarkupLineInterpolated($"          {row.Key}: ONNX Runtime vs simulated, rel. MSE {record.OrtVsSimulated.Average(s => s.Relative):E2}; vs FP: ORT {record.OrtVsFp.Average(s => s.Relative):E2}, simulated {record.SimulatedVsFp.Average(s => s.Relative):E2} (means over steps)");
    }
}
