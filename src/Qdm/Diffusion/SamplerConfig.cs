namespace Qdm.Diffusion;

public enum SamplerKind
{
    /// <summary>Song et al. (2021) DDIM, eq. 12, with η.</summary>
    Ddim,
    /// <summary>Ho et al. (2020) ancestral sampling, Algorithm 2, over the respaced diffusion.</summary>
    Ddpm,
}

/// <summary>How to sample: which sampler, how many steps chosen how, η, and whether x̂₀ is clipped to [−1, 1].</summary>
public sealed record SamplerConfig
{
    public SamplerKind Kind { get; init; } = SamplerKind.Ddim;
    public int Steps { get; init; } = 100;
    public SkipKind Skip { get; init; } = SkipKind.Uniform;
    public double Eta { get; init; }
    /// <summary>improved-diffusion clips x̂₀ (and DDIM re-derives ε from it); ermongroup/ddim's DDIM does not.</summary>
    public bool ClipDenoised { get; init; }

    public string Describe() =>
        $"{Kind.ToString().ToUpperInvariant()} {Steps} steps ({Skip.ToString().ToLowerInvariant()})" +
        (Kind == SamplerKind.Ddim ? $", eta {Eta}" : "") + (ClipDenoised ? ", x0 clipped" : "");
}
