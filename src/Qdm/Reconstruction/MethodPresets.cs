using Qdm.Calibration;
using Qdm.Models;
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
    /// <summary>
    /// Deployable int8 (measured here, README "Choosing settings"): DI2N's placement and calibration in the integer-kernel
    /// form, so ONNX Runtime runs every layer as QLinearConv/QGemm; the first conv's input (x_t) and the softmax
    /// probabilities left FP (the two quantizers that cost most); empirical bias correction; ranges only.
    /// </summary>
    Int8,
}

/// <summary>A method's parts; <see cref="BiasCorrection"/> is Nagel et al. 2019's empirical correction after ranges and reconstruction.</summary>
public sealed record MethodSettings(PlacementConfig Placement, CalibrationConfig Calibration, ReconstructionConfig Reconstruction)
{
    public bool BiasCorrection { get; init; }
}

public static class MethodPresets
{
    private static readonly QuantizerSpec MseActivations = new() { Range = RangeMethod.MseSearch };

    /// <summary>The method's settings for a model of the given architecture (Int8 leaves that architecture's first conv FP).</summary>
    public static MethodSettings For(QuantMethod method, UNetConfig architecture) => method switch
    {
        QuantMethod.Int8 => Int8(For(QuantMethod.Di2n, architecture), architecture),
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

    private static MethodSettings Int8(MethodSettings di2n, UNetConfig architecture) => di2n with
    {
        Placement = di2n.Placement with
        {
            IntegerKernels = true,
            AttentionBits = 16,   // the softmax probabilities' own width; 16 = left FP
            Exclude = new[] { FirstConvOnly(architecture) },
        },
        Reconstruction = di2n.Reconstruction with { Iterations = 0 },
        BiasCorrection = true,
    };

    /// <summary>An exclusion pattern that matches exactly the architecture's first conv, whose input is x_t.</summary>
    public static string FirstConvOnly(UNetConfig architecture) => $"^{System.Text.RegularExpressions.Regex.Escape(architecture.InputConvPath)}$";
}
