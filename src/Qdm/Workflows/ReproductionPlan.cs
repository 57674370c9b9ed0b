using Qdm.Calibration;
using Qdm.Models;
using Qdm.Models.Iddpm;
using Qdm.Placement;
using Qdm.Reconstruction;

namespace Qdm.Workflows;

/// <summary>The scale of a reproduction run: what the machine allows, stated in the report.</summary>
public sealed record ReproductionScale
{
    /// <summary>Images sampled per row (same seeds for every row).</summary>
    public int Samples { get; init; } = 64;
    /// <summary>DDIM steps for sampling (eta 0) and for the calibration trajectories.</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Calibration seeds K for the two W8A8 method rows (mean ± spread); other rows use the first seed.</summary>
    public int Seeds { get; init; } = 1;
    /// <summary>Calibration samples per method (PTQ4DM and DI2N published: 1024).</summary>
    public int CalibrationSamples { get; init; } = 64;
    /// <summary>Reconstruction iterations per unit. Default 0 = ranges only, which is what PTQ4DM's scripts effectively ran
    /// (their AdaRound settings never took effect); the published BRECQ setting is 20,000.</summary>
    public int Iterations { get; init; }
    public long SampleSeed { get; init; }

    public ReproductionScale Validated()
    {
        if (Samples < 2) throw new QdmInputException($"--samples must be at least 2 (Fréchet distances need a covariance), got {Samples}.");
        if (Steps < 1) throw new QdmInputException($"--steps must be positive, got {Steps}.");
        if (Seeds < 1) throw new QdmInputException($"--seeds must be positive, got {Seeds}.");
        if (CalibrationSamples < 1) throw new QdmInputException($"--calib-samples must be positive, got {CalibrationSamples}.");
        if (Iterations < 0) throw new QdmInputException($"--iters must be ≥ 0, got {Iterations}.");
        return this;
    }

    public string Describe() => $"{Samples} samples per row, DDIM {Steps} steps (eta 0), {Seeds} calibration seed(s), " +
        $"{CalibrationSamples} calibration samples, {Iterations} reconstruction iterations per unit";
}

/// <summary>Sections of the report.</summary>
public enum ReproductionSection
{
    /// <summary>FP vs PTQ4DM vs DI2N at W8A8 and W4A8: the seed's table.</summary>
    SeedTable,
    /// <summary>The seed's first finding: normal (NDTC) vs uniform time-step calibration under the same full quantization.</summary>
    TimestepCalibration,
    /// <summary>DI2N's parts added one at a time to PTQ4DM.</summary>
    Ablation,
    /// <summary>Not in the seed: what Qdm's own measurements suggest (DI2N without quantizing the network input x_t).</summary>
    BeyondTheSeed,
}

/// <summary>
/// One row of the report. Job is null for the FP model. Rows with equal jobs share one computation (the ablation's
/// PTQ4DM baseline is the seed table's PTQ4DM row). NotApplicable rows are printed with the reason, never run.
/// </summary>
public sealed record ReproductionRow(ReproductionSection Section, string Method, string Label, QuantizationJob? Job, string? NotApplicable = null)
{
    public bool IsFullPrecision => Job is null && NotApplicable is null;
    public string Bits => Job is not null ? $"W{Job.Placement.WeightBits}A{Job.Placement.ActivationBits}" : NotApplicable is null ? "FP32" : "W8A8";
    public long? CalibrationSeed => Job?.Seed;

    /// <summary>Folder and file name of the computation behind the row: equal jobs give equal keys.</summary>
    public string Key => Job is null ? "fp" : $"{Method}-{Bits.ToLowerInvariant()}-s{Job.Seed}";
}

public static class ReproductionPlan
{
    /// <summary>
    /// The rows for a model: the seed table (FP, PTQ4DM, DI2N at W8A8 over K seeds and at W4A8), normal vs uniform
    /// time-step calibration under full placement, and the DI2N ablation. Every quantized row uses the same calibration
    /// size, trajectory steps and reconstruction (PTQ4DM's QDrop recipe), so only the named part differs.
    /// </summary>
    public static IReadOnlyList<ReproductionRow> For(UNetConfig architecture, ReproductionScale scale)
    {
        bool scaleShift = architecture is IddpmUNetConfig { UseScaleShiftNorm: true };
        QuantizationJob Job(QuantMethod method, int weightBits, long seed, Func<MethodSettings, MethodSettings>? change = null)
        {
            var preset = MethodPresets.For(method, architecture);
            preset = preset with
            {
                Placement = preset.Placement with { WeightBits = weightBits, ActivationBits = 8, SplitTimeEmbedding = preset.Placement.SplitTimeEmbedding && scaleShift },
                Calibration = preset.Calibration with { Samples = scale.CalibrationSamples, SamplingSteps = scale.Steps },
                Reconstruction = preset.Reconstruction with { Iterations = scale.Iterations },
            };
            return QuantizationJob.From(change?.Invoke(preset) ?? preset, seed);
        }

        var rows = new List<ReproductionRow> { new(ReproductionSection.SeedTable, "fp", "FP32", null) };
        foreach (var (method, name) in new[] { (QuantMethod.Ptq4dm, "ptq4dm"), (QuantMethod.Di2n, "di2n") })
            for (int seed = 0; seed < scale.Seeds; seed++)
                rows.Add(new(ReproductionSection.SeedTable, name, name == "ptq4dm" ? "PTQ4DM" : "DI2N", Job(method, 8, seed)));
        rows.Add(new(ReproductionSection.SeedTable, "ptq4dm", "PTQ4DM", Job(QuantMethod.Ptq4dm, 4, 0)));
        rows.Add(new(ReproductionSection.SeedTable, "di2n", "DI2N", Job(QuantMethod.Di2n, 4, 0)));

        // Finding 1: same full placement and reconstruction, trajectory calibration with uniform vs normal positions.
        MethodSettings FullWith(MethodSettings m, CalibrationScheme scheme, TimestepDistributionKind kind) => m with
        {
            Placement = m.Placement with { SplitTimeEmbedding = false },
            Calibration = m.Calibration with { Scheme = scheme, Timesteps = m.Calibration.Timesteps with { Kind = kind } },
        };
        rows.Add(new(ReproductionSection.TimestepCalibration, "full-uniform", "full placement, uniform time steps",
            Job(QuantMethod.Di2n, 8, 0, m => FullWith(m, CalibrationScheme.Uniform, TimestepDistributionKind.Uniform))));
        rows.Add(new(ReproductionSection.TimestepCalibration, "full-normal", "full placement, normal time steps (NDTC)",
            Job(QuantMethod.Di2n, 8, 0, m => FullWith(m, CalibrationScheme.Normal, TimestepDistributionKind.Normal))));

        // Ablation: from PTQ4DM, add DI2N's calibration pipeline, then its quantization order, then the split time embedding.
        var di2nCalibration = MethodPresets.For(QuantMethod.Di2n, architecture).Calibration;
        rows.Add(new(ReproductionSection.Ablation, "ptq4dm", "PTQ4DM", Job(QuantMethod.Ptq4dm, 8, 0)));
        rows.Add(new(ReproductionSection.Ablation, "ablation-calib", "+ DI2N calibration pipeline",
            Job(QuantMethod.Ptq4dm, 8, 0, m => m with { Calibration = m.Calibration with { Scheme = di2nCalibration.Scheme, Timesteps = di2nCalibration.Timesteps } })));
        var ordered = Job(QuantMethod.Di2n, 8, 0, m => m with { Placement = m.Placement with { SplitTimeEmbedding = false } });
        rows.Add(new(ReproductionSection.Ablation, scaleShift ? "ablation-order" : "di2n", "+ quantization order (full placement)", ordered));
        rows.Add(scaleShift
            ? new(ReproductionSection.Ablation, "di2n", "+ split time embedding (= DI2N)", Job(QuantMethod.Di2n, 8, 0))
            : new(ReproductionSection.Ablation, "di2n", "+ split time embedding (= DI2N)", null,
                "not applicable: this architecture's ResBlocks add the time embedding (no scale-shift halves to split), so DI2N = the row above"));

        // qdm inspect puts most of the full placement's error on the 8-bit quantizer of the network input x_t (the first conv's input).
        string inputConv = architecture.InputConvPath;
        var inputConvOnly = new[] { MethodPresets.FirstConvOnly(architecture) };
        rows.Add(new(ReproductionSection.BeyondTheSeed, "di2n-fp-input", $"DI2N with {inputConv} left in FP (its input is x_t)",
            Job(QuantMethod.Di2n, 8, 0, m => m with { Placement = m.Placement with { Exclude = inputConvOnly } })));
        // The rounded weights' mean output error becomes a colour cast over the sampling steps (README); Nagel et al.'s
        // empirical bias correction removes it. Both methods, calibration seed 0, everything else as in the seed table.
        rows.Add(new(ReproductionSection.BeyondTheSeed, "ptq4dm-bias-corrected", "PTQ4DM + bias correction",
            Job(QuantMethod.Ptq4dm, 8, 0) with { BiasCorrection = true }));
        rows.Add(new(ReproductionSection.BeyondTheSeed, "di2n-bias-corrected", "DI2N + bias correction",
            Job(QuantMethod.Di2n, 8, 0) with { BiasCorrection = true }));
        // A deployable recipe (README "Choosing settings"): every layer in int8 kernels, the two quantizers that cost most
        // (x_t, softmax probabilities) left FP, bias correction.
        rows.Add(new(ReproductionSection.BeyondTheSeed, "di2n-int8-kernels", $"DI2N in int8 kernels + bias correction, {inputConv} and softmax probabilities FP",
            Job(QuantMethod.Int8, 8, 0)));
        // The quantized softmax rows no longer sum to 1 (README "Choosing settings"): the same DI2N + bias correction with the
        // probabilities on the log√2 grid and each row rescaled to sum to 1. Last, so that the rows before keep their order.
        rows.Add(new(ReproductionSection.BeyondTheSeed, "di2n-bias-corrected-softmax-rows", "DI2N + bias correction, softmax on the log√2 grid with rows rescaled to sum to 1",
            Job(QuantMethod.Di2n, 8, 0, m => m with { Placement = m.Placement with { AttentionGrid = Quant.QuantGrid.LogSqrt2, AttentionRowNormalized = true } }) with { BiasCorrection = true }));
        return rows;
    }

    /// <summary>
    /// The order in which to sample the computations of a long run, so that a partial run answers the main question
    /// first: FP, then every method's W8A8 row of calibration seed 0, then seed 1, …, then the other rows in row order.
    /// </summary>
    public static IReadOnlyList<ReproductionRow> SamplingOrder(IReadOnlyList<ReproductionRow> computations) =>
        computations.Select((row, index) => (row, index))
            .OrderBy(p => p.row.Job is null ? -1 : p.row.Section == ReproductionSection.SeedTable && p.row.Bits == "W8A8" ? p.row.Job.Seed : long.MaxValue)
            .ThenBy(p => p.index)
            .Select(p => p.row)
            .ToList();

    /// <summary>
    /// The computations a user asked for by key (qdm reproduce --only), in plan order, with FP always among them: every
    /// paired column compares with the FP samples. Null or empty: all of them.
    /// </summary>
    public static IReadOnlyList<ReproductionRow> Only(IReadOnlyList<ReproductionRow> computations, IReadOnlyCollection<string>? keys)
    {
        if (keys is null || keys.Count == 0) return computations;
        var known = computations.Select(r => r.Key).ToHashSet();
        if (keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
            throw new QdmInputException($"--only: no computation '{unknown}' in this plan; expected some of {string.Join(", ", known)}.");
        return computations.Where(r => r.Job is null || keys.Contains(r.Key)).ToList();
    }

    /// <summary>The distinct computations behind the rows, in row order.</summary>
    public static IReadOnlyList<ReproductionRow> Computations(IEnumerable<ReproductionRow> rows)
    {
        var groups = rows.Where(r => r.NotApplicable is null).GroupBy(r => r.Key).ToList();
        foreach (var g in groups.Where(g => g.Select(r => r.Job?.Describe()).Distinct().Count() > 1))
            throw new InvalidOperationException($"rows sharing the key {g.Key} differ in their settings");
        return groups.Select(g => g.First()).ToList();
    }
}
