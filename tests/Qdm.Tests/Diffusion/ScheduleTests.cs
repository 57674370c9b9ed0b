using Qdm.Diffusion;
using Qdm.IO;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Diffusion;

public class ScheduleTests
{
    [Fact]
    public void Linear_betas_follow_the_closed_form()
    {
        var betas = BetaSchedules.Linear(1000, 1e-4, 0.02);
        Assert.Equal(1e-4, betas[0]);
        Assert.Equal(0.02, betas[^1]);
        for (int i = 0; i < betas.Length; i++)
            Approx.Equal(1e-4 + i * (0.02 - 1e-4) / 999, betas[i], 1e-14);
    }

    [Fact]
    public void Cosine_alpha_bar_follows_the_closed_form_until_beta_is_clipped()
    {
        const int T = 4000;
        var alphaBar = BetaSchedules.AlphasCumprod(BetaSchedules.Cosine(T));
        double F(double t) => Math.Pow(Math.Cos((t / T + 0.008) / 1.008 * Math.PI / 2), 2);
        // ᾱ_t telescopes to f(t+1)/f(0) while no β hits the 0.999 cap (the cap only bites at the very end).
        for (int t = 0; t < T - 5; t += 97) Approx.Equal(F(t + 1) / F(0), alphaBar[t], 1e-10);
        Assert.True(BetaSchedules.Cosine(T).Max() <= 0.999);
    }

    [Fact]
    public void Posterior_mean_coefficients_reproduce_q_posterior_algebra()
    {
        var d = new GaussianDiffusion(DiffusionConfig.DdpmLinear1000);
        // Ho et al. eq. 7: coef1 = β_t √ᾱ_{t−1} / (1 − ᾱ_t), coef2 = (1 − ᾱ_{t−1}) √α_t / (1 − ᾱ_t), β̃_t = (1 − ᾱ_{t−1}) β_t / (1 − ᾱ_t).
        foreach (int t in new[] { 1, 10, 500, 999 })
        {
            double ab = d.AlphasCumprod[t], abPrev = d.AlphasCumprod[t - 1], beta = d.Betas[t];
            Approx.Equal(beta * Math.Sqrt(abPrev) / (1 - ab), d.PosteriorMeanCoef1[t], 1e-13);
            Approx.Equal((1 - abPrev) * Math.Sqrt(1 - beta) / (1 - ab), d.PosteriorMeanCoef2[t], 1e-13);
            Approx.Equal((1 - abPrev) * beta / (1 - ab), d.PosteriorVariance[t], 1e-13);
        }
    }

    [SkippableFact]
    public void Linear_schedule_matches_ddim_get_beta_schedule()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/ddim_sampling.npz"));
        var betas = BetaSchedules.Linear(1000, 1e-4, 0.02);
        var reference = o["betas_float64"].data<double>().ToArray();
        for (int i = 0; i < 1000; i++) Assert.Equal(reference[i], betas[i]);   // bit-identical to numpy.linspace
        var alphaBar = BetaSchedules.AlphasCumprod(betas);
        var refAlphaBar = o["alpha_bar_float64"].data<double>().ToArray();
        for (int i = 0; i < 1000; i++) Approx.Equal(refAlphaBar[i], alphaBar[i], 1e-13);
    }

    [SkippableFact]
    public void Cosine_schedule_matches_improved_diffusion()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/iddpm_sampling.npz"));
        var d = new GaussianDiffusion(DiffusionConfig.IddpmCosine4000);
        var betas = o["base_betas"].data<double>().ToArray();
        var alphaBar = o["base_alphas_cumprod"].data<double>().ToArray();
        for (int i = 0; i < 4000; i++)
        {
            // β = 1 − ᾱ(t2)/ᾱ(t1) cancels: one ulp of difference in cos() becomes ~1e-12 relative in small β.
            Approx.Equal(betas[i], d.Betas[i], 1e-10);
            Approx.Equal(alphaBar[i], d.AlphasCumprod[i], 1e-12);
        }
    }
}
