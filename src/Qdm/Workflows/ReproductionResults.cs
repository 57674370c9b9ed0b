using System.Text.Json;
using System.Text.Json.Serialization;
using Qdm.Reconstruction;

namespace Qdm.Workflows;

/// <summary>What quantizing one row cost and achieved; saved beside its .qdm file so a rerun skips the work.</summary>
public sealed record QuantizationRecord
{
    public required string Settings { get; init; }
    public double Seconds { get; init; }
    public long FileBytes { get; init; }
    public long Fp32Bytes { get; init; }
    public int UnitsImproved { get; init; }
    public int Units { get; init; }
    /// <summary>Per-step relative output MSE vs FP (teacher-forced) after ranges only and after reconstruction.</summary>
    public required IReadOnlyList<StepError> Before { get; init; }
    public required IReadOnlyList<StepError> After { get; init; }
    /// <summary>Where it ran (<see cref="CpuDescription"/>); null in records written before it was kept.</summary>
    public string? Cpu { get; init; }
    /// <summary>Seconds per stage; null in records written before they were kept.</summary>
    public QuantizationTimes? Times { get; init; }
}

/// <summary>ONNX Runtime against the simulated model on the same FP-trajectory inputs, next to the quantization error itself.</summary>
public sealed record AgreementRecord
{
    public required string Engine { get; init; }
    public required IReadOnlyList<StepError> OrtVsSimulated { get; init; }
    public required IReadOnlyList<StepError> SimulatedVsFp { get; init; }
    public required IReadOnlyList<StepError> OrtVsFp { get; init; }
    /// <summary>Mean over steps of rel. MSE(ORT, simulated) / rel. MSE(simulated, FP): the engine's deviation in units of the quantization error.</summary>
    public double Ratio => OrtVsSimulated.Zip(SimulatedVsFp).Average(p => p.First.Relative / Math.Max(p.Second.Relative, 1e-30));
}

public sealed record SamplingRecord
{
    public required string Engine { get; init; }
    public long Images { get; init; }
    /// <summary>Seconds spent on images made by this process (resumed images excluded), and how many those were.</summary>
    public double Seconds { get; init; }
    public long FreshImages { get; init; }
    /// <summary>Where those images were made (<see cref="CpuDescription"/>); null in records written before it was kept.</summary>
    public string? Cpu { get; init; }
}

/// <summary>Metrics of one sample set in one feature space; null where not computable (no reference, no classifier).</summary>
public sealed record MetricsRecord
{
    public required string Network { get; init; }
    public required string PooledMetric { get; init; }
    public required string SpatialMetric { get; init; }
    public long Samples { get; init; }
    public string? Reference { get; init; }
    public long ReferenceCount { get; init; }
    public double? Fd { get; init; }
    public double? SpatialFd { get; init; }
    public double? KidMean { get; init; }
    public double? KidStd { get; init; }
    public double? Precision { get; init; }
    public double? Recall { get; init; }
    public double? InceptionScore { get; init; }
    /// <summary>Pooled Fréchet distance to the FP model's samples from the same seeds (0 for the FP row).</summary>
    public double? FdVsFp { get; init; }
    /// <summary>FD's mean term ‖μ − μ_ref‖² (the rest is the covariance term), and the shift of the feature mean from the FP
    /// samples': its length and its signed component toward the reference (Metrics.FrechetDecomposition).</summary>
    public double? FdMeanTerm { get; init; }
    public double? FeatureShiftVsFp { get; init; }
    public double? FeatureShiftTowardData { get; init; }
    /// <summary>Pooled FD to the reference of this row's images with their mean per-channel shift vs FP removed
    /// (Metrics.PairedPixels.WithoutMeanShift), and its paired-bootstrap replicates: how much of a gap a colour cast explains.</summary>
    public double? FdCastRemoved { get; init; }
    public IReadOnlyList<double>? BootstrapFdCastRemoved { get; init; }
    /// <summary>Mean |Δ| of uint8 pixels against the FP image from the same seed: paired, so meaningful at small N.</summary>
    public double? PixelDeltaVsFp { get; init; }
    /// <summary>Std over images of each image's mean |Δ| against its FP twin: the spread behind <see cref="PixelDeltaVsFp"/>.</summary>
    public double? PixelDeltaVsFpStd { get; init; }
    /// <summary>Mean signed Δ of uint8 pixels against the FP image from the same seed, per channel: a consistent cast, not noise.</summary>
    public IReadOnlyList<double>? PixelShiftVsFp { get; init; }
    /// <summary>Pooled FD to the reference on each paired-bootstrap replicate (Metrics.PairedBootstrap; the same image
    /// indices for every row), so the report can give the sampling noise of any gap between rows.</summary>
    public IReadOnlyList<double>? BootstrapFd { get; init; }
}

/// <summary>Everything measured for one computation (one key) of the plan.</summary>
public sealed record RowResults(QuantizationRecord? Quantization, AgreementRecord? Agreement, SamplingRecord? Sampling, IReadOnlyList<MetricsRecord> Metrics);

public static class ResultFiles
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Write<T>(string path, T value) => IO.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, Options));

    public static T? Read<T>(string path) where T : class
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options); }
        catch (JsonException) { return null; }   // a damaged record is recomputed
    }
}
