using System.Diagnostics;
using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Placement;
using Qdm.Reconstruction;
using Qdm.Sampling;
using static TorchSharp.torch;

namespace Qdm.Workflows;

/// <summary>Everything one quantization run needs besides the model: the three parts of a method and the report settings.</summary>
public sealed record QuantizationJob(PlacementConfig Placement, CalibrationConfig Calibration, ReconstructionConfig Reconstruction)
{
    /// <summary>FP trajectories on which the per-step output error is measured before and after reconstruction.</summary>
    public int EvalImages { get; init; } = 4;
    /// <summary>After reconstruction, correct each layer's bias for its rounded weights' mean output shift (Reconstruction.BiasCorrection).</summary>
    public bool BiasCorrection { get; init; }
    public long Seed => Calibration.Seed;

    public static QuantizationJob From(MethodSettings method, long seed) =>
        new(method.Placement, method.Calibration with { Seed = seed }, method.Reconstruction with { Seed = seed }) { BiasCorrection = method.BiasCorrection };

    /// <summary>One line per part; also the fingerprint that decides whether a finished run can be reused.</summary>
    public string Describe() => $"placement {Placement.Describe()}; calibration {Calibration.Describe()}; reconstruction {Reconstruction.Describe()}" +
        (BiasCorrection ? "; bias correction" : "");   // unchanged without it, so earlier runs stay reusable
}

/// <summary>What a quantization run produced, with the measurements the reports print.</summary>
public sealed record QuantizationOutcome(
    QuantizedUNet Model,
    IReadOnlyList<UnitResult> Units,
    IReadOnlyList<StepError> Before,
    IReadOnlyList<StepError> After,
    double Seconds,
    QuantizationTimes Times);

/// <summary>Wall seconds of each stage of one quantization run (0 for a stage that did not run).</summary>
public sealed record QuantizationTimes(double Calibration, double Ranges, double StepErrors, double Reconstruction, double BiasCorrection)
{
    public string Describe() =>
        FormattableString.Invariant($"calibration data {Calibration:F1} s, weight and activation ranges {Ranges:F1} s, per-step error {StepErrors:F1} s") +
        (Reconstruction > 0 ? FormattableString.Invariant($", reconstruction {Reconstruction:F1} s") : "") +
        (BiasCorrection > 0 ? FormattableString.Invariant($", bias correction {BiasCorrection:F1} s") : "");
}

/// <summary>Progress of the stages of a quantization run (all optional).</summary>
public sealed class QuantizationProgress
{
    public IProgress<(int Done, int Total)>? Calibration { get; init; }
    public IProgress<UnitResult>? Units { get; init; }
    public Action<int, int>? Iterations { get; init; }
    /// <summary>The calibration set, and whether it was reused from the work folder.</summary>
    public Action<CalibrationSet, bool>? CalibrationReady { get; init; }
    public Action<QuantizedUNet>? RangesObserved { get; init; }
}

/// <summary>
/// Calibration data → placement → activation ranges per time step → block reconstruction, with the per-step output error
/// against the FP model before and after. The calibration set and every finished unit are kept in the work folder, so a
/// stopped run resumes.
/// </summary>
public static class QuantizationWorkflow
{
    /// <param name="images">Real images for the data calibration scheme: n → batches of uint8 NHWC.</param>
    /// <param name="calibrationFolder">Where calibration sets are kept, named by their settings, so runs with the same
    /// calibration share one set (default: the work folder).</param>
    public static QuantizationOutcome Run(DiffusionModel fp, DiffusionModel toQuantize, QuantizationJob job, string workDir,
        QuantizationProgress? progress = null, Func<int, IEnumerable<Tensor>>? images = null, string? calibrationFolder = null)
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(workDir);
        var (data, reused) = LoadOrBuildCalibration(fp, job.Calibration, calibrationFolder ?? workDir, progress?.Calibration, images,
            shared: calibrationFolder is not null);
        progress?.CalibrationReady?.Invoke(data, reused);
        double lapStart = 0;
        double Lap() { double now = clock.Elapsed.TotalSeconds, seconds = now - lapStart; lapStart = now; return seconds; }
        double calibrationSeconds = Lap();

        var q = Quantization.Quantize(toQuantize.Network, job.Placement);
        using (no_grad())
        using (var observation = q.Observe())
            foreach (var (t, x, modelTime) in data.ByTimestep())
            {
                observation.Timestep = t;
                q.Network.call(x, modelTime).Dispose();
            }
        progress?.RangesObserved?.Invoke(q);
        double rangeSeconds = Lap();

        var sampler = DiffusionModel.DefaultSamplerFor(fp.Config.Family, SamplerKind.Ddim, job.Calibration.SamplingSteps);
        long evalSeed = job.Seed + 1_000_003;   // disjoint from the calibration trajectories' seed
        var before = StepErrors.Measure(fp, q.Network, sampler, job.EvalImages, evalSeed);
        double stepErrorSeconds = Lap();
        var units = job.Reconstruction.Iterations > 0
            ? Reconstructor.Run(q, fp.Network, data, job.Reconstruction, workDir, progress?.Units, progress?.Iterations)
            : Array.Empty<UnitResult>();
        double reconstructionSeconds = Lap();
        if (job.BiasCorrection) Reconstruction.BiasCorrection.Apply(q, data);
        double biasSeconds = Lap();
        var after = units.Count > 0 || job.BiasCorrection ? StepErrors.Measure(fp, q.Network, sampler, job.EvalImages, evalSeed) : before;
        stepErrorSeconds += Lap();
        var times = new QuantizationTimes(calibrationSeconds, rangeSeconds, stepErrorSeconds,
            job.Reconstruction.Iterations > 0 ? reconstructionSeconds : 0, job.BiasCorrection ? biasSeconds : 0);
        return new QuantizationOutcome(q, units, before, after, clock.Elapsed.TotalSeconds, times);
    }

    private static (CalibrationSet Set, bool Reused) LoadOrBuildCalibration(DiffusionModel fp, CalibrationConfig config, string folder,
        IProgress<(int Done, int Total)>? progress, Func<int, IEnumerable<Tensor>>? images, bool shared)
    {
        Directory.CreateDirectory(folder);
        var name = shared ? "calibration-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(config.Describe())))[..16] : "calibration";
        var path = Path.Combine(folder, name + ".safetensors");
        var fingerprint = Path.Combine(folder, name + ".txt");
        if (File.Exists(path) && File.Exists(fingerprint) && File.ReadAllText(fingerprint) == config.Describe())
            return (CalibrationSet.Load(path), true);
        var set = CalibrationData.Build(fp, config.Validated(), images, progress);
        set.Save(path);
        IO.AtomicFile.WriteAllText(fingerprint, config.Describe());
        return (set, false);
    }
}
