using Qdm.Diffusion;
using Qdm.Models;
using static TorchSharp.torch;

namespace Qdm.Sampling;

/// <summary>A U-Net together with the diffusion it was trained with: everything needed to sample.</summary>
public sealed record DiffusionModel(DiffusionUNet Network, DiffusionConfig Diffusion, string Source)
{
    public UNetConfig Config => Network.Config;

    /// <summary>What the model is, independent of where its file lies (file name and content hash); runs record it.</summary>
    public string Identity { get; init; } = Source;

    /// <summary>The forward process each family's published checkpoints use.</summary>
    public static DiffusionConfig DefaultDiffusionFor(UNetFamily family) => family switch
    {
        UNetFamily.Ddpm => DiffusionConfig.DdpmLinear1000,
        UNetFamily.Iddpm => DiffusionConfig.IddpmCosine4000,
        _ => throw new ArgumentOutOfRangeException(nameof(family)),
    };

    /// <summary>Reference sampler defaults: ddim-repo DDIM (uniform skip, no clipping) for DDPM U-Nets;
    /// improved-diffusion (ddimN / section respacing, x̂₀ clipped) for UNetModel.</summary>
    public static SamplerConfig DefaultSamplerFor(UNetFamily family, SamplerKind kind, int steps, double eta = 0) => family switch
    {
        UNetFamily.Ddpm => new() { Kind = kind, Steps = steps, Eta = eta, Skip = SkipKind.Uniform, ClipDenoised = kind == SamplerKind.Ddpm },
        _ => new() { Kind = kind, Steps = steps, Eta = eta, Skip = kind == SamplerKind.Ddim ? SkipKind.Even : SkipKind.Sections, ClipDenoised = true },
    };

    public Denoiser Denoiser => (x, t) => Network.call(x, t);

    /// <summary>Checks that the network's outputs fit the diffusion (a learned variance needs 2× channels).</summary>
    public DiffusionModel Validated()
    {
        if (Diffusion.Variance == VarianceKind.LearnedRange && !Config.LearnsVariance)
            throw new QdmInputException($"{Source}: the learned-range variance needs a network with {2 * Config.InChannels} output channels; it has {Config.OutChannels}.");
        if (Diffusion.Variance != VarianceKind.LearnedRange && Config.LearnsVariance)
            throw new QdmInputException($"{Source}: the network predicts a variance ({Config.OutChannels} channels) but the diffusion uses a fixed one; use a learned-range diffusion.");
        return this;
    }
}
