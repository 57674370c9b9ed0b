using Qdm.IO;
using Qdm.Metrics;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class InceptionScoreTests
{
    [Fact]
    public void Confident_predictions_spread_evenly_over_k_classes_score_k()
    {
        const int k = 7, perClass = 30;
        var labels = arange(k * perClass) % k;
        var logits = nn.functional.one_hot(labels, 20).to(ScalarType.Float32) * 60;   // p(y|x) ≈ one-hot (e^-60 ≈ 1e-26)
        Approx.Equal(k, InceptionScore.Adm(logits), 1e-9);
        var (mean, std) = InceptionScore.ImprovedGan(logits, splits: perClass / 3);
        Approx.Equal(k, mean, 1e-9);
        Assert.True(std < 1e-9);
    }

    [Fact]
    public void Identical_predictions_score_one()
    {
        var logits = randn(new long[] { 1, 50 }, generator: new Generator(2)).expand(40, 50);
        Approx.Equal(1.0, InceptionScore.Adm(logits), 1e-12);
    }

    [SkippableFact]
    public void Matches_the_adm_evaluator_and_the_improved_gan_convention()
    {
        var o = Npz.Read(SharedAssets.Require("oracles/metrics.npz"));
        Approx.Equal(o["is_adm_split5000"].item<double>(), InceptionScore.Adm(o["L"]), 1e-12);
        var (mean, std) = InceptionScore.ImprovedGan(o["L"]);
        Approx.Equal(o["is_improved_gan_10splits_mean"].item<double>(), mean, 1e-12);
        Approx.Equal(o["is_improved_gan_10splits_std"].item<double>(), std, 1e-9);
    }
}
