using static TorchSharp.torch;

namespace Qdm.Models;

/// <summary>Sinusoidal time-step embeddings, computed in float32 exactly as the two reference codebases do.</summary>
public static class TimestepEmbedding
{
    /// <summary>ddim `get_timestep_embedding`: [sin, cos], freq_i = exp(-ln(10000)·i/(half-1)).</summary>
    public static Tensor DdpmSinCos(Tensor timesteps, int dim)
    {
        int half = dim / 2;
        double scale = Math.Log(10000) / (half - 1);
        using var freqs = (arange(half, dtype: ScalarType.Float32) * -scale).exp_();
        using var args = timesteps.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);   // [B, half]
        var emb = cat(new[] { args.sin(), args.cos() }, 1);
        return dim % 2 == 1 ? nn.functional.pad(emb, new long[] { 0, 1 }) : emb;
    }

    /// <summary>improved-diffusion `timestep_embedding`: [cos, sin], freq_i = exp(-ln(10000)·i/half).</summary>
    public static Tensor IddpmCosSin(Tensor timesteps, int dim, double maxPeriod = 10000)
    {
        int half = dim / 2;
        using var freqs = (arange(0, half, dtype: ScalarType.Float32) * -Math.Log(maxPeriod) / half).exp_();
        using var args = timesteps.to(ScalarType.Float32).unsqueeze(1) * freqs.unsqueeze(0);   // [B, half]
        var emb = cat(new[] { args.cos(), args.sin() }, -1);
        return dim % 2 == 1 ? cat(new[] { emb, zeros_like(emb[.., ..1]) }, -1) : emb;
    }
}
