namespace Qdm.Diffusion;

/// <summary>How the network's extra output channels (if any) set the reverse-process variance.</summary>
public enum VarianceKind
{
    /// <summary>σ² = β_t (posterior variance at t = 0): DDPM's "fixedlarge".</summary>
    FixedLarge,
    /// <summary>σ² = β̃_t, the posterior variance: DDPM's "fixedsmall".</summary>
    FixedSmall,
    /// <summary>improved-diffusion: log σ² = v·log β_t + (1 − v)·log β̃_t with v = (output + 1)/2 (Nichol &amp; Dhariwal eq. 15).</summary>
    LearnedRange,
}

/// <summary>The forward process a model was trained with, and how its time steps are fed to the network.</summary>
public sealed record DiffusionConfig
{
    public int Steps { get; init; } = 1000;
    public BetaSchedule Schedule { get; init; } = BetaSchedule.Linear;
    public double BetaStart { get; init; } = 1e-4;
    public double BetaEnd { get; init; } = 0.02;
    public VarianceKind Variance { get; init; } = VarianceKind.FixedLarge;
    /// <summary>improved-diffusion's rescale_timesteps: the network sees t·1000/T instead of t.</summary>
    public bool RescaleTimesteps { get; init; }

    /// <summary>Ho et al.'s CIFAR-10 setting (ddim repo `configs/cifar10.yml`): T = 1000, linear 1e-4 → 0.02.</summary>
    public static DiffusionConfig DdpmLinear1000 { get; } = new();

    /// <summary>improved-diffusion CIFAR-10 / ImageNet-64: T = 4000, cosine, learned-range variance, rescaled time steps.</summary>
    public static DiffusionConfig IddpmCosine4000 { get; } = new()
    {
        Steps = 4000, Schedule = BetaSchedule.Cosine, Variance = VarianceKind.LearnedRange, RescaleTimesteps = true,
    };

    /// <summary>improved-diffusion's "linear" schedule scales the DDPM endpoints by 1000/T.</summary>
    public static DiffusionConfig IddpmLinear(int steps) => new()
    {
        Steps = steps, BetaStart = 1e-4 * 1000 / steps, BetaEnd = 0.02 * 1000 / steps,
        Variance = VarianceKind.LearnedRange, RescaleTimesteps = true,
    };

    public DiffusionConfig Validated()
    {
        if (Steps < 1) throw new ArgumentException($"diffusion steps must be positive, got {Steps}.");
        if (Schedule == BetaSchedule.Linear && !(BetaStart > 0 && BetaEnd < 1 && BetaStart <= BetaEnd))
            throw new ArgumentException($"linear betas need 0 < start ≤ end < 1, got {BetaStart} → {BetaEnd}.");
        return this;
    }

    public string Describe() =>
        $"T={Steps}, {Schedule.ToString().ToLowerInvariant()}" +
        (Schedule == BetaSchedule.Linear ? $" {BetaStart:G3}→{BetaEnd:G3}" : "") +
        $", variance {Variance}" + (RescaleTimesteps ? ", time fed as t·1000/T" : "");
}
