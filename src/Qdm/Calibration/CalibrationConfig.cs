namespace Qdm.Calibration;

public enum CalibrationScheme
{
    /// <summary>x_t from FP sampling trajectories at positions spread evenly over them (Q-Diffusion).</summary>
    Uniform,
    /// <summary>x_t from FP sampling trajectories at normally distributed positions (PTQ4DM's NDTC).</summary>
    Normal,
    /// <summary>DI2N's pipeline: generate x₀ with the FP model, then diffuse it forward to x_t with q(x_t | x₀).</summary>
    Di2n,
    /// <summary>The same forward diffusion from real images.</summary>
    Data,
}

/// <summary>How a calibration set is drawn.</summary>
public sealed record CalibrationConfig
{
    public CalibrationScheme Scheme { get; init; } = CalibrationScheme.Uniform;
    /// <summary>Calibration samples (network inputs) in all (PTQ4DM: 1024; Q-Diffusion: 20 × 256 = 5120).</summary>
    public int Samples { get; init; } = 1024;
    /// <summary>Steps S of the FP DDIM trajectories that produce x_t (or x₀ for di2n).</summary>
    public int SamplingSteps { get; init; } = 100;
    /// <summary>Positions along the trajectory (for di2n/data: the time steps to diffuse to).</summary>
    public TimestepDistribution Timesteps { get; init; } = new();
    public long Seed { get; init; }
    public int Batch { get; init; } = 32;
    /// <summary>For Data: an image set (folder, .npz, CIFAR .bin, ARCHIVE.tar.gz:prefix/) with the model's image size.</summary>
    public string? DataPath { get; init; }

    public CalibrationConfig Validated()
    {
        if (Samples < 1) throw new QdmInputException($"calibration needs at least one sample, got {Samples}.");
        if (SamplingSteps < 1) throw new QdmInputException($"calibration trajectories need at least one step, got {SamplingSteps}.");
        if (Scheme == CalibrationScheme.Data && DataPath is null) throw new QdmInputException("the data calibration scheme needs --calib-data.");
        return this;
    }

    public string Describe() => $"{Scheme.ToString().ToLowerInvariant()}: {Samples} samples, {Timesteps.Describe()} of a {SamplingSteps}-step DDIM trajectory" +
        (Scheme == CalibrationScheme.Data ? $", images from {DataPath}" : "") + $", seed {Seed}";
}
