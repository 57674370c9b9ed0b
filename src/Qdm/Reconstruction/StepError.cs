using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Sampling;
using static TorchSharp.torch;

namespace Qdm.Reconstruction;

/// <summary>
/// Output error of a quantized network against the FP one at one sampling step. <paramref name="ChannelOffset"/> is the
/// mean signed error per output channel: a consistent offset in ε̂ accumulates over the trajectory into a colour or
/// brightness cast (bias correction, Nagel et al. 2019 §4.2; PTQD, He et al. 2023 §4.2), where zero-mean noise averages out.
/// </summary>
public sealed record StepError(int Step, int Timestep, double Mse, double Relative, IReadOnlyList<double>? ChannelOffset = null)
{
    /// <summary>Share of the MSE that the per-channel offsets explain (mean of their squares / MSE); NaN when not measured.</summary>
    public double OffsetShare => ChannelOffset is { Count: > 0 } o && Mse > 0 ? o.Average(v => v * v) / Mse : double.NaN;
}

public static class StepErrors
{
    /// <summary>
    /// Runs FP DDIM trajectories; at every step both networks see the same x_t and their outputs are compared
    /// (teacher forcing: the error of one forward, not accumulated along the trajectory).
    /// </summary>
    public static IReadOnlyList<StepError> Measure(DiffusionModel fp, DiffusionUNet quantized, SamplerConfig sampler, int images, long seed) =>
        Measure(fp, (x, t) => quantized.call(x, t), sampler, images, seed);

    /// <summary>
    /// The same for any network: `candidate` against `reference` (default: the FP model itself) on the FP trajectory's
    /// x_t — e.g. ONNX Runtime's integer kernels against the simulated quantized model.
    /// </summary>
    public static IReadOnlyList<StepError> Measure(DiffusionModel fp, Denoiser candidate, SamplerConfig sampler, int images, long seed, Denoiser? reference = null)
    {
        var rows = new List<StepError>();
        var diffusion = new GaussianDiffusion(fp.Diffusion);
        using var noise = new PerImageNoise(seed, 0, images);
        var shape = new long[] { fp.Config.InChannels, fp.Config.ImageSize, fp.Config.ImageSize };
        Sampler.Sample(fp.Denoiser, diffusion, sampler, noise.Next(shape), noise, step =>
        {
            using var scope = NewDisposeScope();
            var t = full(step.X.shape[0], step.ModelTime, ScalarType.Float32);
            var q = candidate(step.X, t);
            var target = reference is null ? step.ModelOutput : reference(step.X, t);
            var error = (q - target).to(ScalarType.Float64);
            double mse = error.square().mean().item<double>();
            double energy = target.to(ScalarType.Float64).square().mean().item<double>();
            var offset = error.mean(new long[] { 0, 2, 3 }).data<double>().ToArray();
            rows.Add(new StepError(step.Index, step.Timestep, mse, mse / energy, offset));
        }).Dispose();
        return rows;
    }
}
