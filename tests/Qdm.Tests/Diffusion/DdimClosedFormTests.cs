using Qdm.Diffusion;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Diffusion;

public class DdimClosedFormTests
{
    /// <summary>A model that predicts the true noise of a known x0: ε(x_t, t) = (x_t − √ᾱ_t x0)/√(1 − ᾱ_t).</summary>
    private static Denoiser Oracle(GaussianDiffusion d, Tensor x0) => (x, t) =>
    {
        var ab = tensor(t.data<float>().Select(v => d.AlphasCumprod[(int)v]).ToArray()).reshape(-1, 1, 1, 1);
        return ((x - ab.sqrt().to(ScalarType.Float32) * x0) / (1 - ab).sqrt().to(ScalarType.Float32)).to(ScalarType.Float32);
    };

    [Theory]
    [InlineData(SkipKind.Uniform, 10)]
    [InlineData(SkipKind.Quad, 50)]
    [InlineData(SkipKind.Uniform, 1000)]
    public void Ddim_with_true_noise_recovers_x0(SkipKind skip, int steps)
    {
        var d = new GaussianDiffusion(DiffusionConfig.DdpmLinear1000);
        var x0 = rand(new long[] { 3, 3, 8, 8 }, generator: new Generator(1)) * 2 - 1;
        var xT = randn(new long[] { 3, 3, 8, 8 }, generator: new Generator(2));
        var sample = Sampler.Sample(Oracle(d, x0), d, new SamplerConfig { Steps = steps, Skip = skip }, xT, new NoNoise());
        TensorAssert.Close(x0, sample, 1e-4, "recovered x0");
    }

    [Fact]
    public void Ddim_with_true_noise_and_eta_one_still_lands_on_x0()
    {
        // With the exact ε, x̂₀ is exact at every step and the final step has σ = 0 and ᾱ_prev = 1.
        var d = new GaussianDiffusion(DiffusionConfig.DdpmLinear1000);
        var x0 = rand(new long[] { 2, 3, 8, 8 }, generator: new Generator(3)) * 2 - 1;
        var xT = randn(new long[] { 2, 3, 8, 8 }, generator: new Generator(4));
        using var noise = new PerImageNoise(seed: 5, firstImage: 0, count: 2);
        var sample = Sampler.Sample(Oracle(d, x0), d, new SamplerConfig { Steps = 20, Eta = 1 }, xT, noise);
        TensorAssert.Close(x0, sample, 1e-4, "recovered x0");
    }
}
