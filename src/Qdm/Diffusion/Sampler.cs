using static TorchSharp.torch;

namespace Qdm.Diffusion;

/// <summary>DDIM and ancestral DDPM sampling with one signature and a per-step callback.</summary>
public static class Sampler
{
    /// <summary>The original time steps (ascending) the sampler visits, as the reference code builds them.</summary>
    public static int[] Timesteps(GaussianDiffusion diffusion, SamplerConfig config) =>
        Respacing.Timesteps(config.Skip, diffusion.NumSteps, config.Steps);

    public static Tensor Sample(Denoiser model, GaussianDiffusion diffusion, SamplerConfig config, Tensor xT,
        INoiseSource noise, Action<SamplerStep>? onStep = null)
    {
        var timesteps = Timesteps(diffusion, config);
        return config.Kind switch
        {
            SamplerKind.Ddim => Ddim(model, diffusion, timesteps, config.Eta, config.ClipDenoised, xT, noise, onStep),
            SamplerKind.Ddpm => Ancestral(model, diffusion.Respace(timesteps), config.ClipDenoised, xT, noise, onStep),
            _ => throw new ArgumentOutOfRangeException(nameof(config)),
        };
    }

    /// <summary>
    /// DDIM (Song et al. 2021, eq. 12) over original time steps seq (repeats allowed, as ddim's `quad` makes them):
    /// x_prev = √ᾱ_prev·x̂₀ + √(1 − ᾱ_prev − σ²)·ε + σ·z, σ = η·√((1 − ᾱ_prev)/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev).
    /// </summary>
    public static Tensor Ddim(Denoiser model, GaussianDiffusion diffusion, IReadOnlyList<int> seq, double eta, bool clip,
        Tensor xT, INoiseSource noise, Action<SamplerStep>? onStep = null)
    {
        using var _ = no_grad();
        long channels = xT.shape[1];
        var x = xT;
        for (int k = seq.Count - 1; k >= 0; k--)
        {
            using var scope = NewDisposeScope();
            int t = seq[k];
            double at = diffusion.AlphasCumprod[t], atPrev = k > 0 ? diffusion.AlphasCumprod[seq[k - 1]] : 1.0;
            float modelTime = diffusion.ModelTime(t);
            var output = model(x, full(x.shape[0], modelTime, ScalarType.Float32));
            var eps = output[.., ..(int)channels];
            var x0 = PredictX0(x, eps, at);
            if (clip)
            {
                x0 = x0.clamp(-1, 1);
                eps = (x * Math.Sqrt(1 / at) - x0) / Math.Sqrt(1 / at - 1);   // ε consistent with the clipped x̂₀
            }
            onStep?.Invoke(new SamplerStep(seq.Count - 1 - k, seq.Count, t, modelTime, x, output, x0));
            double sigma = eta * Math.Sqrt((1 - atPrev) / (1 - at)) * Math.Sqrt(1 - at / atPrev);
            var z = noise.NextLike(x);
            var next = x0 * Math.Sqrt(atPrev) + eps * Math.Sqrt(Math.Max(1 - atPrev - sigma * sigma, 0)) + z * sigma;
            x = Advance(x, xT, next);
        }
        return x;
    }

    /// <summary>
    /// Ancestral sampling (Ho et al. 2020, Algorithm 2) over a respaced diffusion: x_{t−1} = μ̃(x_t, x̂₀) + σ_t·z,
    /// with σ_t fixed or interpolated from the network's variance output (Nichol &amp; Dhariwal eq. 15); no noise at t = 0.
    /// </summary>
    public static Tensor Ancestral(Denoiser model, GaussianDiffusion spaced, bool clip, Tensor xT, INoiseSource noise,
        Action<SamplerStep>? onStep = null)
    {
        using var _ = no_grad();
        var x = xT;
        for (int k = spaced.NumSteps - 1; k >= 0; k--)
        {
            using var scope = NewDisposeScope();
            float modelTime = spaced.ModelTime(k);
            var output = model(x, full(x.shape[0], modelTime, ScalarType.Float32));
            var (mean, logVariance, x0) = MeanVariance(spaced, k, x, output, clip);
            onStep?.Invoke(new SamplerStep(spaced.NumSteps - 1 - k, spaced.NumSteps, spaced.TimestepMap[k], modelTime, x, output, x0));
            var z = noise.NextLike(x);
            var next = k == 0 ? mean : mean + (logVariance * 0.5).exp() * z;
            x = Advance(x, xT, next);
        }
        return x;
    }

    /// <summary>
    /// improved-diffusion `p_mean_variance` for step k of a (respaced) diffusion: the posterior mean μ̃(x_t, x̂₀)
    /// (Ho et al. eq. 7), the reverse log-variance (fixed, or learned-range) and x̂₀ (clipped if asked).
    /// </summary>
    public static (Tensor Mean, Tensor LogVariance, Tensor X0) MeanVariance(GaussianDiffusion spaced, int k, Tensor x, Tensor output, bool clip)
    {
        long channels = x.shape[1];
        var x0 = PredictX0(x, output[.., ..(int)channels], spaced.AlphasCumprod[k]);
        if (clip) x0 = x0.clamp(-1, 1);
        var mean = x0 * spaced.PosteriorMeanCoef1[k] + x * spaced.PosteriorMeanCoef2[k];
        var logVariance = spaced.Config.Variance == VarianceKind.LearnedRange
            ? LearnedLogVariance(spaced, k, output, channels)
            : full_like(x, spaced.FixedLogVariance(k));
        return (mean, logVariance, x0);
    }

    /// <summary>x̂₀ = √(1/ᾱ_t)·x_t − √(1/ᾱ_t − 1)·ε (Ho et al. eq. 4 solved for x₀).</summary>
    public static Tensor PredictX0(Tensor x, Tensor eps, double alphaBar) =>
        x * Math.Sqrt(1 / alphaBar) - eps * Math.Sqrt(1 / alphaBar - 1);

    /// <summary>log σ² = v·log β_t + (1 − v)·log β̃_t, v = (output + 1)/2.</summary>
    private static Tensor LearnedLogVariance(GaussianDiffusion spaced, int k, Tensor output, long channels)
    {
        if (output.shape[1] != 2 * channels)
            throw new InvalidOperationException($"a learned-range variance needs {2 * channels} output channels, the model gives {output.shape[1]}.");
        var frac = (output[.., (int)channels..] + 1) / 2;
        return frac * Math.Log(spaced.Betas[k]) + (1 - frac) * spaced.PosteriorLogVarianceClipped[k];
    }

    private static Tensor Advance(Tensor current, Tensor xT, Tensor next)
    {
        var kept = next.MoveToOuterDisposeScope();
        if (!ReferenceEquals(current, xT)) current.Dispose();
        return kept;
    }
}
