using Qdm.IO;
using Qdm.Models;
using Qdm.Models.Iddpm;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Models;

/// <summary>improved-diffusion's UNetModel against the reference run on the same weights and inputs (oracles/iddpm_ch32_*).</summary>
public class IddpmUNetOracleTests(ITestOutputHelper output)
{
    // create_model(32, 32, 2, learn_sigma=True, attention_resolutions="16,8", num_heads=4, use_scale_shift_norm=True)
    private static readonly IddpmUNetConfig Ch32 = new()
    {
        ModelChannels = 32, NumResBlocks = 2, OutChannelsCount = 6,
        AttentionDs = IddpmUNetConfig.DsFromResolutions(32, 16, 8), NumHeads = 4,
    };

    // f32-vs-f64 noise of the reference is 1.9e-6 (out) and 2.2e-6 (out_t_scaled).
    private const double OutTolerance = 2e-5;

    [SkippableTheory]
    [InlineData("oracles/iddpm_ch32.pt")]
    [InlineData("oracles/iddpm_ch32.safetensors")]
    public void Forward_matches_reference_model_for_integer_and_rescaled_time_steps(string weights)
    {
        var io = Npz.Read(SharedAssets.Require("oracles/iddpm_ch32_io.npz"));
        using var model = ModelFactory.Load(SharedAssets.Require(weights), Ch32);
        using var _ = no_grad();
        using var outInt = model.call(io["x"], io["t"]);
        using var outScaled = model.call(io["x"], io["t_scaled"]);
        double d1 = TensorAssert.Close(io["out"], outInt, OutTolerance, "out");
        double d2 = TensorAssert.Close(io["out_t_scaled"], outScaled, OutTolerance, "out_t_scaled");
        output.WriteLine($"{weights}: max |out - ref| = {d1:G3}, with t·1000/4000: {d2:G3}");
    }

    [SkippableFact]
    public void Architecture_is_read_off_the_state_dict()
    {
        using var model = ModelFactory.LoadInferred(SharedAssets.Require("oracles/iddpm_ch32.pt"));
        Assert.Equal(Ch32, model.Config);
    }

    [SkippableTheory]
    [InlineData("oracles/iddpm_cifar10_uncond.keys.txt", false)]
    [InlineData("oracles/iddpm_imagenet64_uncond.keys.txt", true)]
    public void Parameter_names_and_shapes_match_the_published_configs(string keysFile, bool imageNet)
    {
        var lines = File.ReadAllLines(SharedAssets.Require(keysFile));
        long expectedCount = long.Parse(lines[0].Split('\t')[1]);
        var expected = lines.Skip(1).Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]);

        using var model = new IddpmUNet(imageNet ? IddpmUNetConfig.ImageNet64Uncond : IddpmUNetConfig.Cifar10Uncond);
        var actual = model.state_dict().ToDictionary(p => p.Key, p => string.Join(",", p.Value.shape));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, shape) in expected) Assert.True(shape == actual[key], $"{key}: expected [{shape}], got [{actual[key]}]");
        Assert.Equal(expectedCount, model.parameters().Sum(p => p.numel()));
    }
}
