using Qdm.IO;
using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Models;

/// <summary>The DDPM U-Net against ermongroup/ddim's `Model` run on the same weights and inputs (oracles/ddpm_ch32_*).</summary>
public class DdpmUNetOracleTests(ITestOutputHelper output)
{
    private static readonly DdpmUNetConfig Ch32 = new() { Ch = 32 };

    // The oracle README measures float32-vs-float64 noise of 1.7e-6 on eps; a correct port lands within a few times that.
    private const double EpsTolerance = 2e-5;

    [SkippableTheory]
    [InlineData("oracles/ddpm_ch32.pt")]
    [InlineData("oracles/ddpm_ch32.safetensors")]
    public void Forward_matches_reference_model(string weights)
    {
        var io = Npz.Read(SharedAssets.Require("oracles/ddpm_ch32_io.npz"));
        using var model = ModelFactory.Load(SharedAssets.Require(weights), Ch32);
        using var _ = no_grad();
        using var eps = model.call(io["x"], io["t"]);
        double d = TensorAssert.Close(io["eps"], eps, EpsTolerance, "eps");
        output.WriteLine($"{weights}: max |eps - reference| = {d:G3}");
    }

    [SkippableFact]
    public void Sinusoid_matches_reference_float32_construction()
    {
        var io = Npz.Read(SharedAssets.Require("oracles/ddpm_ch32_io.npz"));
        using var emb = TimestepEmbedding.DdpmSinCos(io["t"], 32);
        // Arguments reach t·freq ≈ 999, where one float32 ulp is 6.1e-5: an ulp of difference in libtorch's
        // vectorised exp moves sin/cos by that much. A wrong order or frequency formula moves them by O(1).
        double d = TensorAssert.Close(io["temb_sinusoid"], emb, 6.1e-5, "temb_sinusoid");
        output.WriteLine($"max |sinusoid - reference| = {d:G3}");
    }

    [SkippableFact]
    public void Parameter_names_and_shapes_match_the_published_cifar10_config()
    {
        var lines = File.ReadAllLines(SharedAssets.Require("oracles/ddpm_cifar10_full.keys.txt"));
        long expectedCount = long.Parse(lines[0].Split('\t')[1]);
        var expected = lines.Skip(1).Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]);

        using var model = new DdpmUNet(DdpmUNetConfig.Cifar10);
        var actual = model.state_dict().ToDictionary(p => p.Key, p => string.Join(",", p.Value.shape));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, shape) in expected) Assert.True(shape == actual[key], $"{key}: expected [{shape}], got [{actual[key]}]");
        Assert.Equal(expectedCount, model.parameters().Sum(p => p.numel()));
    }
}
