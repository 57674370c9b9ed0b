using Qdm.Diffusion;
using Qdm.Sampling;
using static TorchSharp.torch;

namespace Qdm.Calibration;

/// <summary>Runs the FP sampler from noise and keeps the network inputs x_t at chosen steps (the sampler callback).</summary>
public static class TrajectoryCollector
{
    /// <param name="keepStep">Which sampling-step indices (0 = first, at the largest t) to keep; null keeps all.</param>
    public static CalibrationSet Collect(DiffusionModel model, SamplerConfig sampler, int images, int batch, long seed,
        Func<int, bool>? keepStep = null, IProgress<int>? progress = null)
    {
        var diffusion = new GaussianDiffusion(model.Diffusion);
        var xs = new List<Tensor>();
        var ts = new List<long>();
        var modelTimes = new List<float>();
        var shape = new long[] { model.Config.InChannels, model.Config.ImageSize, model.Config.ImageSize };
        for (int start = 0; start < images; start += batch)
        {
            int count = Math.Min(batch, images - start);
            using var noise = new PerImageNoise(seed, start, count);
            Sampler.Sample(model.Denoiser, diffusion, sampler, noise.Next(shape), noise, step =>
            {
                if (keepStep is not null && !keepStep(step.Index)) return;
                xs.Add(step.X.clone().DetachFromDisposeScope());
                ts.AddRange(Enumerable.Repeat((long)step.Timestep, count));
                modelTimes.AddRange(Enumerable.Repeat(step.ModelTime, count));
            }).Dispose();
            Nn.NativeHeap.Trim();   // kept x_t clones sit between large freed temporaries
            progress?.Report(start + count);
        }
        return new CalibrationSet(cat(xs, 0), tensor(ts.ToArray()), tensor(modelTimes.ToArray()));
    }
}
