using Qdm.Diffusion;
using Qdm.IO;
using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Diffusion;

/// <summary>Whole sampling trajectories against ermongroup/ddim `generalized_steps` and improved-diffusion's samplers.</summary>
public class SamplerOracleTests(ITestOutputHelper output)
{
    private static Denoiser Ddpm32()
    {
        var model = ModelFactory.Load(SharedAssets.Require("oracles/ddpm_ch32.pt"), new DdpmUNetConfig { Ch = 32 });
        return (x, t) => model.call(x, t);
    }

    private static Denoiser Iddpm32()
    {
        var model = ModelFactory.Load(SharedAssets.Require("oracles/iddpm_ch32.pt"), new IddpmUNetConfig
        {
            ModelChannels = 32, NumResBlocks = 2, AttentionDs = new[] { 2, 4 }, NumHeads = 4,
        });
        return (x, t) => model.call(x, t);
    }

    /// <summary>Runs a sampler and returns [inputs of every step..., final], like the references' `xs`.</summary>
    private static (Tensor Xs, Tensor X0s) Trajectory(Func<Action<SamplerStep>, Tensor> run)
    {
        var xs = new List<Tensor>();
        var x0s = new List<Tensor>();
        var final = run(step => { xs.Add(step.X.clone().DetachFromDisposeScope()); x0s.Add(step.PredX0.clone().DetachFromDisposeScope()); });
        xs.Add(final);
        return (stack(xs), stack(x0s));
    }

    // Tolerances: the oracle README's float32-vs-float64 spread of the same reference, times 3 to 5
    // ("a few times that number": summation order differs between libtorch versions).
    [SkippableTheory]
    [InlineData("uniform", SkipKind.Uniform, 1.3e-4 * 3)]
    [InlineData("quad", SkipKind.Quad, 4.4e-5 * 3)]
    public void Ddim_eta0_trajectory_matches_generalized_steps(string name, SkipKind skip, double tolerance)
    {
        var o = Npz.Read(SharedAssets.Require("oracles/ddim_sampling.npz"));
        var model = Ddpm32();
        var diffusion = new GaussianDiffusion(DiffusionConfig.DdpmLinear1000);
        var config = new SamplerConfig { Steps = 10, Skip = skip };
        var (xs, x0s) = Trajectory(cb => Sampler.Sample(model, diffusion, config, o["x_T"], new NoNoise(), cb));
        double d = TensorAssert.Close(o[$"eta0_{name}10_xs"], xs, tolerance, "xs");
        double d0 = TensorAssert.Close(o[$"eta0_{name}10_x0_preds"], x0s, 10 * tolerance, "x0_preds");
        output.WriteLine($"{name}: max |xs - ref| = {d:G3}, max |x0 - ref| = {d0:G3}");
    }

    [SkippableFact]
    public void Ddim_eta1_trajectory_matches_generalized_steps_given_the_same_noise()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/ddim_sampling.npz"));
        var noise = new ReplayNoise(o["eta1_uniform10_noise"].unbind(0));
        var config = new SamplerConfig { Steps = 10, Skip = SkipKind.Uniform, Eta = 1 };
        var (xs, _) = Trajectory(cb => Sampler.Sample(Ddpm32(), new GaussianDiffusion(DiffusionConfig.DdpmLinear1000), config, o["x_T"], noise, cb));
        double d = TensorAssert.Close(o["eta1_uniform10_xs"], xs, 1.8e-4 * 3, "xs");
        output.WriteLine($"eta 1: max |xs - ref| = {d:G3}");
    }

    [SkippableFact]
    public void Improved_diffusion_ddim_with_clipping_matches_ddim_sample_loop()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/iddpm_sampling.npz"));
        var config = new SamplerConfig { Steps = 10, Skip = SkipKind.Even, ClipDenoised = true };
        var modelTimes = new List<float>();
        var (xs, x0s) = Trajectory(cb => Sampler.Sample(Iddpm32(), new GaussianDiffusion(DiffusionConfig.IddpmCosine4000), config,
            o["x_T"], new NoNoise(), s => { modelTimes.Add(s.ModelTime); cb(s); }));
        Assert.Equal(o["ddim10_model_t"].data<float>().ToArray(), modelTimes);
        double d = TensorAssert.Close(o["ddim10_samples"], xs[1..], 5.4e-6 * 5, "samples");
        double d0 = TensorAssert.Close(o["ddim10_pred_xstart"], x0s, 5.4e-6 * 10, "pred_xstart");
        output.WriteLine($"iddpm ddim10: max |samples - ref| = {d:G3}, pred_xstart {d0:G3}");
    }

    [SkippableFact]
    public void Improved_diffusion_ancestral_sampling_matches_p_sample_loop_given_the_same_noise()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/iddpm_sampling.npz"));
        var config = new SamplerConfig { Kind = SamplerKind.Ddpm, Steps = 10, Skip = SkipKind.Sections, ClipDenoised = true };
        var modelTimes = new List<float>();
        var noise = new ReplayNoise(o["p10_noise"].unbind(0));
        var (xs, x0s) = Trajectory(cb => Sampler.Sample(Iddpm32(), new GaussianDiffusion(DiffusionConfig.IddpmCosine4000), config,
            o["x_T"], noise, s => { modelTimes.Add(s.ModelTime); cb(s); }));
        Assert.Equal(o["p10_model_t"].data<float>().ToArray(), modelTimes);
        for (int i = 0; i < 10; i++) output.WriteLine($"step {i}: samples {(o["p10_samples"][i] - xs[i + 1]).abs().max().item<float>():G3}, x0 {(o["p10_pred_xstart"][i] - x0s[i]).abs().max().item<float>():G3}");
        // Step 8 (respaced t 444 → 0) is the last one that adds noise, scaled by exp(½·log variance), where the learned
        // interpolation between log β and log β̃ has its widest span (β̃ is tiny next to t = 0): there the model's
        // variance-channel rounding is amplified. On an AVX2 CPU (Zen 3) it reached 5.25e-5 while every other step stayed
        // within 8e-6 and pred_xstart within 1.4e-5; on AVX-512 (Zen 4) the whole trajectory stayed within 2.75e-5.
        double d = TensorAssert.Close(o["p10_samples"][..8], xs[1..9], 5.5e-6 * 5, "samples before the last noisy step");
        d = Math.Max(d, TensorAssert.Close(o["p10_samples"][8..], xs[9..], 5.5e-6 * 20, "samples of the last noisy step and the final one"));
        double d0 = TensorAssert.Close(o["p10_pred_xstart"], x0s, 5.5e-6 * 10, "pred_xstart");
        output.WriteLine($"iddpm p10: max |samples - ref| = {d:G3}, pred_xstart {d0:G3}");
    }

    [SkippableTheory]
    [InlineData(99, 1.3e-6, 5.8e-5)]
    [InlineData(37, 1.7e-7, 1.1e-6)]
    public void Learned_range_mean_and_variance_match_p_mean_variance(int k, double meanNoise, double x0Noise)
    {
        var o = Npz.Read(SharedAssets.Require("oracles/iddpm_sampling.npz"));
        var spaced = new GaussianDiffusion(DiffusionConfig.IddpmCosine4000).Respace(Respacing.Even(4000, 100));
        var modelOutput = Iddpm32()(o["x_T"], full(2, spaced.ModelTime(k), ScalarType.Float32));
        TensorAssert.Close(o[$"pmv_ddim100_t{k}_model_output"], modelOutput, 2e-5, "model output");
        var (mean, logVar, x0) = Sampler.MeanVariance(spaced, k, o["x_T"], modelOutput, clip: true);
        TensorAssert.Close(o[$"pmv_ddim100_t{k}_mean"], mean, Math.Max(3 * meanNoise, 1e-5), "mean");
        TensorAssert.Close(o[$"pmv_ddim100_t{k}_log_variance"], logVar, 1e-5, "log_variance");
        TensorAssert.Close(o[$"pmv_ddim100_t{k}_variance"], logVar.exp(), 1e-6, "variance");
        TensorAssert.Close(o[$"pmv_ddim100_t{k}_pred_xstart"], x0, Math.Max(3 * x0Noise, 1e-5), "pred_xstart");
    }
}
