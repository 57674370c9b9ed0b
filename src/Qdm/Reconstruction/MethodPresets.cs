using Qdm.Calibration;
using Qdm.Placement;
using Qdm.Quant;

namespace Qdm.Reconstruction;

/// <summary>Named bundles of placement, calibration and reconstruction, so published settings are reproduced by name.</summary>
public enum QuantMethod
{
    /// <summary>Every part set by options (defaults: full placement, uniform calibration, no reconstruction).</summary>
    Custom,
    /// <summary>PTQ4DM: PTQ4DM placement, NDTC calibration (1024 samples), QDrop (p 0.5, rounding weight 0.01, 100 iterations), MSE ranges.</summary>
    Ptq4dm,
    /// <summary>DI2N: full placement, split time embedding, generate-then-diffuse calibration, the same reconstruction as PTQ4DM.</summary>
    Di2n,
    /// <summary>Q-Diffusion: full placement with split skip, 20 uniform positions × 256 trajectories, BRECQ 20k iterations + LSQ (4e-4).</summary>
    QDiffusion,
}

public sealed record MethodSettings(PlacementConfig Placement, CalibrationConfig Calibration, ReconstructionConfig Reconstruction);

public static class MethodPresets
{
    private static readonly QuantizerSpec MseActivations = new() { Range = RangeMethod.MseSearch };

    public static MethodSettings For(QuantMethod method) => method switch
    {
        QuantMethod.Ptq4dm => new(
            new PlacementConfig { Kind = PlacementKind.Ptq4dm, Activations = MseActivations },
            new CalibrationConfig { Scheme = CalibrationScheme.Normal, Samples = 1024, Timesteps = new TimestepDistribution { Kind = TimestepDistributionKind.Normal } },
            new ReconstructionConfig { Iterations = 100, DropProbability = 0.5, RoundingWeight = 0.01 }),
        QuantMethod.Di2n => new(
            new PlacementConfig { Kind = PlacementKind.Full, SplitTimeEmbedding = true, Activations = MseActivations },
            new CalibrationConfig { Scheme = CalibrationScheme.Di2n, Samples = 1024 },
            new ReconstructionConfig { Iterations = 100, DropProbability = 0.5, RoundingWeight = 0.01 }),
        QuantMethod.QDiffusion => new(
            new PlacementConfig { Kind = PlacementKind.Full, Activations = MseActivations },
            new CalibrationConfig { Scheme = CalibrationScheme.Uniform, Samples = 20 * 256, Timesteps = new TimestepDistribution { UniformPositions = 20 } },
            new ReconstructionConfig { Iterations = 20000, ActivationLearningRate = 4e-4 }),
        _ => new(new PlacementConfig(), new CalibrationConfig(), new ReconstructionConfig { Iterations = 0 }),
    };
}
