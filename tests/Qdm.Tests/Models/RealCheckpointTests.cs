using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Sampling;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Models;

/// <summary>The real trained models in ../shared/models load strictly and sample image-like pictures.</summary>
public class RealCheckpointTests(ITestOutputHelper output)
{
    /// <summary>Mean correlation between horizontally neighbouring pixels: ≈ 0 for noise, high for natural images.</summary>
    internal static double NeighbourCorrelation(Tensor images)
    {
        var a = images[.., .., .., ..^1].flatten(1);
        var b = images[.., .., .., 1..].flatten(1);
        var ac = a - a.mean(new long[] { 1 }, keepdim: true);
        var bc = b - b.mean(new long[] { 1 }, keepdim: true);
        var corr = (ac * bc).sum(1) / ((ac.square().sum(1) * bc.square().sum(1)).sqrt() + 1e-12);
        return corr.mean().item<float>();
    }

    /// <summary>Judged on the uint8 pictures a user gets: spatially correlated (not noise) and varied (not constant).</summary>
    private void AssertImageLike(Tensor x0, Tensor xT, string name)
    {
        var pixels = Qdm.IO.ImageTensors.ToUint8Nhwc(x0).permute(0, 3, 1, 2).to(ScalarType.Float32);
        double noiseCorr = NeighbourCorrelation(xT), sampleCorr = NeighbourCorrelation(pixels);
        // ch32 makes some saturated flat pictures (../shared/README.md), so judge the typical sample.
        double medianStd = pixels.flatten(1).std(1).median().item<float>();
        double inRange = (x0.abs() <= 1).to(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"{name}: neighbour correlation {sampleCorr:F3} (x_T {noiseCorr:F3}), median per-image std {medianStd:F1}/255, x0 within [-1,1]: {inRange:P1}");
        Assert.True(Math.Abs(noiseCorr) < 0.1, "the statistic must see Gaussian noise as uncorrelated");
        Assert.True(sampleCorr > 0.5, $"samples look like noise (neighbour correlation {sampleCorr:F3})");
        Assert.True(medianStd > 5, $"samples are nearly constant (median per-image std {medianStd:F1}/255)");
    }

    [SkippableTheory]
    [InlineData("models/ddpm_cifar10_ch64_ema.ckpt", 64)]
    [InlineData("models/ddpm_cifar10_ch32_ema.ckpt", 32)]
    public void Trained_ddpm_loads_strictly_and_short_ddim_gives_image_like_samples(string file, int ch)
    {
        var model = ModelLoader.Load(new ModelLoadOptions(SharedAssets.Require(file)) { Architecture = ArchitectureChoice.Ddpm });
        Assert.Equal(ch, ((Qdm.Models.Ddpm.DdpmUNetConfig)model.Config).Ch);

        using var noise = new PerImageNoise(seed: 0, firstImage: 0, count: 8);
        var xT = noise.Next(new long[] { 3, 32, 32 });
        var sampler = DiffusionModel.DefaultSamplerFor(UNetFamily.Ddpm, SamplerKind.Ddim, steps: 10);
        var x0 = Sampler.Sample(model.Denoiser, new GaussianDiffusion(model.Diffusion), sampler, xT, noise);

        AssertImageLike(x0, xT, file);
    }

    [SkippableFact]
    public void Trained_improved_diffusion_mnist_model_loads_strictly_and_samples()
    {
        var model = ModelLoader.Load(new ModelLoadOptions(SharedAssets.Require("models/iddpm_mnist_ch32_ema.pt")));
        Assert.True(model.Config is Qdm.Models.Iddpm.IddpmUNetConfig { ModelChannels: 32, UseScaleShiftNorm: true, OutChannelsCount: 6 });
        Assert.Equal(2_491_462, model.Network.parameters().Sum(p => p.numel()));

        using var noise = new PerImageNoise(seed: 0, firstImage: 0, count: 4);
        var xT = noise.Next(new long[] { 3, 32, 32 });
        var sampler = DiffusionModel.DefaultSamplerFor(UNetFamily.Iddpm, SamplerKind.Ddim, steps: 10);
        var x0 = Sampler.Sample(model.Denoiser, new GaussianDiffusion(model.Diffusion), sampler, xT, noise);
        AssertImageLike(x0, xT, "iddpm_mnist_ch32_ema.pt");
    }
}
