using Qdm.Diffusion;
using Qdm.IO;
using Qdm.Sampling;
using static TorchSharp.torch;

namespace Qdm.Calibration;

/// <summary>Builds calibration sets by the four schemes (always with the real time step fed to the network).</summary>
public static class CalibrationData
{
    /// <param name="images">For the data scheme: real images (uint8 N×H×W×C batches).</param>
    public static CalibrationSet Build(DiffusionModel model, CalibrationConfig config, Func<int, IEnumerable<Tensor>>? images = null,
        IProgress<(int Done, int Total)>? progress = null)
    {
        config.Validated();
        var sampler = DiffusionModel.DefaultSamplerFor(model.Config.Family, SamplerKind.Ddim, config.SamplingSteps);
        var diffusion = new GaussianDiffusion(model.Diffusion);
        int steps = Sampler.Timesteps(diffusion, sampler).Length;
        var random = new Random((int)(config.Seed & 0x7fffffff));
        bool uniform = config.Timesteps.Kind == TimestepDistributionKind.Uniform;
        int perImage = uniform ? Math.Min(config.Timesteps.UniformPositions, steps) : 1;
        int imageCount = (config.Samples + perImage - 1) / perImage;
        // positions[i] = the trajectory positions image i contributes (k = 0 is the last sampling step)
        var positions = Enumerable.Range(0, imageCount).Select(i => uniform
            ? Enumerable.Range(0, perImage).Select(j => config.Timesteps.UniformPosition(j, steps)).ToArray()
            : config.Timesteps.DrawPositions(1, steps, random)).ToArray();

        return config.Scheme switch
        {
            CalibrationScheme.Uniform or CalibrationScheme.Normal => FromTrajectories(model, diffusion, sampler, steps, positions, config, progress),
            CalibrationScheme.Di2n => Diffused(model, diffusion, sampler, steps, positions, config,
                GeneratedImages(model, diffusion, sampler, imageCount, config), progress),
            _ => Diffused(model, diffusion, sampler, steps, positions, config,
                RealImages(model, images ?? throw new QdmInputException("the data scheme needs images."), imageCount), progress),
        };
    }

    /// <summary>Each image's FP trajectory contributes x_t at its positions (sampling index S − 1 − k).</summary>
    private static CalibrationSet FromTrajectories(DiffusionModel model, GaussianDiffusion diffusion, SamplerConfig sampler, int steps,
        int[][] positions, CalibrationConfig config, IProgress<(int, int)>? progress)
    {
        var xs = new List<Tensor>();
        var ts = new List<long>();
        var mts = new List<float>();
        var shape = ImageShape(model);
        for (int start = 0; start < positions.Length; start += config.Batch)
        {
            int count = Math.Min(config.Batch, positions.Length - start);
            using var noise = new PerImageNoise(config.Seed, start, count);
            Sampler.Sample(model.Denoiser, diffusion, sampler, noise.Next(shape), noise, step =>
            {
                int k = steps - 1 - step.Index;
                var rows = Enumerable.Range(0, count).Where(i => positions[start + i].Contains(k)).Select(i => (long)i).ToArray();
                if (rows.Length == 0) return;
                xs.Add(step.X.index_select(0, tensor(rows)).DetachFromDisposeScope());
                ts.AddRange(Enumerable.Repeat((long)step.Timestep, rows.Length));
                mts.AddRange(Enumerable.Repeat(step.ModelTime, rows.Length));
            }).Dispose();
            Nn.NativeHeap.Trim();
            progress?.Report((start + count, positions.Length));
        }
        return Trimmed(new CalibrationSet(cat(xs, 0), tensor(ts.ToArray()), tensor(mts.ToArray())), config.Samples);
    }

    /// <summary>x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε (Ho et al. eq. 4) at each image's positions' time steps.</summary>
    private static CalibrationSet Diffused(DiffusionModel model, GaussianDiffusion diffusion, SamplerConfig sampler, int steps,
        int[][] positions, CalibrationConfig config, IEnumerable<Tensor> cleanImages, IProgress<(int, int)>? progress)
    {
        var seq = Sampler.Timesteps(diffusion, sampler);   // ascending: position k ↔ time step seq[k]
        var xs = new List<Tensor>();
        var ts = new List<long>();
        var mts = new List<float>();
        var generator = new Generator((ulong)(config.Seed * 7919 + 17));
        int image = 0;
        foreach (var x0Batch in cleanImages)
        {
            for (int i = 0; i < x0Batch.shape[0] && image < positions.Length; i++, image++)
                foreach (int k in positions[image])
                {
                    int t = seq[k];
                    double ab = diffusion.AlphasCumprod[t];
                    var eps = randn(x0Batch[i].shape, generator: generator);
                    xs.Add((x0Batch[i] * Math.Sqrt(ab) + eps * Math.Sqrt(1 - ab)).unsqueeze(0).DetachFromDisposeScope());
                    ts.Add(t);
                    mts.Add(diffusion.ModelTime(t));
                }
            progress?.Report((image, positions.Length));
            if (image >= positions.Length) break;
        }
        if (image < positions.Length) throw new QdmInputException($"calibration needs {positions.Length} clean images, only {image} were available.");
        return Trimmed(new CalibrationSet(cat(xs, 0), tensor(ts.ToArray()), tensor(mts.ToArray())), config.Samples);
    }

    /// <summary>DI2N: FP samples x₀ (in model space), generated batch by batch from seeds disjoint from the trajectory seeds.</summary>
    private static IEnumerable<Tensor> GeneratedImages(DiffusionModel model, GaussianDiffusion diffusion, SamplerConfig sampler, int count, CalibrationConfig config)
    {
        var shape = ImageShape(model);
        for (int start = 0; start < count; start += config.Batch)
        {
            int n = Math.Min(config.Batch, count - start);
            using var noise = new PerImageNoise(config.Seed ^ 0x5DEECE66DL, start, n);
            var x0 = Sampler.Sample(model.Denoiser, diffusion, sampler, noise.Next(shape), noise);
            Nn.NativeHeap.Trim();
            yield return x0.clamp(-1, 1);
        }
    }

    private static IEnumerable<Tensor> RealImages(DiffusionModel model, Func<int, IEnumerable<Tensor>> images, int count)
    {
        foreach (var batch in images(count))
        {
            if (batch.shape[1] != model.Config.ImageSize || batch.shape[2] != model.Config.ImageSize || batch.shape[3] != model.Config.InChannels)
                throw new QdmInputException($"calibration images are {batch.shape[1]}×{batch.shape[2]}×{batch.shape[3]}, the model takes " +
                    $"{model.Config.ImageSize}×{model.Config.ImageSize}×{model.Config.InChannels}.");
            yield return ImageTensors.ToModelSpace(batch);
        }
    }

    private static long[] ImageShape(DiffusionModel model) => new long[] { model.Config.InChannels, model.Config.ImageSize, model.Config.ImageSize };

    private static CalibrationSet Trimmed(CalibrationSet set, int samples) => set.Count <= samples ? set
        : new CalibrationSet(set.X[..samples], set.Timesteps[..samples], set.ModelTimes[..samples]);
}
