using Qdm.Diffusion;
using Qdm.IO;
using Qdm.Tests.Support;

namespace Qdm.Tests.Diffusion;

public class RespacingTests
{
    [Fact]
    public void Ddim_uniform_and_quad_follow_their_definitions()
    {
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 100), Respacing.Uniform(1000, 10));
        Assert.Equal(new[] { 0, 9, 39, 88, 158, 246, 355, 483, 632, 800 }, Respacing.Quad(1000, 10));
        // range(0, 1000, 1000 // 30 = 33) has 31 entries: the ddim repo does not trim it.
        Assert.Equal(31, Respacing.Uniform(1000, 30).Length);
    }

    [Fact]
    public void Improved_diffusion_section_counts_follow_space_timesteps()
    {
        Assert.Equal(new[] { 0, 444, 889, 1333, 1777, 2222, 2666, 3110, 3555, 3999 }, Respacing.Sections(4000, 10));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i * 400), Respacing.Even(4000, 10));
        Assert.Throws<ArgumentException>(() => Respacing.Even(1000, 999));   // no integer stride gives exactly 999 steps
    }

    [SkippableTheory]
    [InlineData("uniform", 10)]
    [InlineData("uniform", 100)]
    [InlineData("quad", 10)]
    [InlineData("quad", 100)]
    public void Ddim_step_lists_equal_the_reference(string kind, int steps)
    {
        var o = Npz.Read(SharedAssets.Require("oracles/ddim_sampling.npz"));
        var expected = o[$"seq_{kind}_{steps}"].data<long>().Select(v => (int)v).ToArray();
        var actual = Respacing.Timesteps(kind == "quad" ? SkipKind.Quad : SkipKind.Uniform, 1000, steps);
        Assert.Equal(expected, actual);
    }

    [SkippableTheory]
    [InlineData("ddim_10", SkipKind.Even, 10)]
    [InlineData("ddim_100", SkipKind.Even, 100)]
    [InlineData("ddim_250", SkipKind.Even, 250)]
    [InlineData("10", SkipKind.Sections, 10)]
    [InlineData("100", SkipKind.Sections, 100)]
    [InlineData("250", SkipKind.Sections, 250)]
    public void Improved_diffusion_timestep_maps_and_respaced_betas_equal_the_reference(string key, SkipKind kind, int steps)
    {
        var o = Npz.Read(SharedAssets.Require("oracles/iddpm_sampling.npz"));
        var expectedMap = o[$"timestep_map_{key}"].data<long>().Select(v => (int)v).ToArray();
        var expectedBetas = o[$"betas_{key}"].data<double>().ToArray();
        var spaced = new GaussianDiffusion(DiffusionConfig.IddpmCosine4000).Respace(Respacing.Timesteps(kind, 4000, steps));
        Assert.Equal(expectedMap, spaced.TimestepMap);
        for (int k = 0; k < steps; k++) Assert.Equal(expectedBetas[k], spaced.Betas[k], 12);
    }
}
