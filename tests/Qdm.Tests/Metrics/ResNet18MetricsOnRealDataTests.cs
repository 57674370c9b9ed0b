using Qdm.Metrics;
using Qdm.Metrics.ResNet18;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

/// <summary>Real CIFAR-10 and MNIST images in the ResNet-18 feature space (features extracted once for the class).</summary>
public sealed class RealImageFeatures : IDisposable
{
    public FeatureSet? CifarTest, CifarTrain, Noise, Mnist;
    public string? SkipReason;

    public RealImageFeatures()
    {
        var root = SharedAssets.Root;
        if (root is null) { SkipReason = "../shared is not present"; return; }
        using var network = new ResNet18FeatureNetwork(ResNet18FeatureNetwork.DefaultModelsFolder, threads: 2);
        FeatureSet Features(IImageSource s) => FeatureSet.Extract(network, s, 100);
        CifarTest = Features(ImageSources.Open(Path.Combine(root, "data/cifar10/cifar10-test-first1017.bin"), 500));
        CifarTrain = Features(ImageSources.Open(Path.Combine(root, "data/cifar10/cifar10-train-batch1-first4000.bin"), 1000));
        Mnist = Features(ImageSources.Open(Path.Combine(root, "data/mnist/t10k-images-idx3-ubyte.gz"), 500));
        var noise = (randn(new long[] { 500, 32, 32, 3 }, generator: new Generator(9)) * 64 + 128).clamp(0, 255).to(ScalarType.Byte);
        Noise = Features(new TensorImages(noise, "Gaussian noise"));
    }

    public void Dispose() { }
}

public class ResNet18MetricsOnRealDataTests(RealImageFeatures data, ITestOutputHelper output) : IClassFixture<RealImageFeatures>
{
    private static GaussianStatistics Stats(Tensor f) => GaussianStatistics.FromFeatures(f);

    [SkippableFact]
    public void Fd_between_cifar_splits_is_far_below_fd_to_noise_and_to_mnist()
    {
        Skip.If(data.SkipReason is not null, data.SkipReason);
        var test = Stats(data.CifarTest!.Pooled);
        double trainTest = FrechetDistance.Compute(test, Stats(data.CifarTrain!.Pooled[..500]));
        double noise = FrechetDistance.Compute(test, Stats(data.Noise!.Pooled));
        double mnist = FrechetDistance.Compute(test, Stats(data.Mnist!.Pooled));
        double sTrainTest = FrechetDistance.Compute(Stats(data.CifarTest.Spatial), Stats(data.CifarTrain.Spatial[..500]));
        double sMnist = FrechetDistance.Compute(Stats(data.CifarTest.Spatial), Stats(data.Mnist.Spatial));
        output.WriteLine($"FD-R18 (500 vs 500): CIFAR test–train {trainTest:F2}, test–noise {noise:F2}, test–MNIST {mnist:F2}; sFD-R18 test–train {sTrainTest:F2}, test–MNIST {sMnist:F2}");
        Assert.True(trainTest * 3 < noise, "CIFAR splits must be much closer to each other than to noise");
        Assert.True(trainTest * 3 < mnist, "CIFAR splits must be much closer to each other than to MNIST");
        Assert.True(sTrainTest * 2 < sMnist);
    }

    [SkippableFact]
    public void Kid_of_a_set_against_a_disjoint_half_of_itself_is_zero_within_its_spread()
    {
        Skip.If(data.SkipReason is not null, data.SkipReason);
        var train = data.CifarTrain!.Pooled;
        var (same, sameStd) = KernelInceptionDistance.Compute(train[..500], train[500..], subsets: 50, subsetSize: 400);
        var (toMnist, _) = KernelInceptionDistance.Compute(train[..500], data.Mnist!.Pooled, subsets: 50, subsetSize: 400);
        output.WriteLine($"KID-R18 half vs half: {same:F5} ± {sameStd:F5}; CIFAR vs MNIST {toMnist:F4}");
        Assert.True(Math.Abs(same) <= sameStd, $"KID {same} is not within its spread {sameStd} of 0");
        Assert.True(toMnist > 20 * sameStd, "KID must separate CIFAR from MNIST");
    }

    [SkippableFact]
    public void Precision_and_recall_of_a_set_against_itself_are_one_and_drop_for_another_domain()
    {
        Skip.If(data.SkipReason is not null, data.SkipReason);
        var (p, r) = PrecisionRecall.Compute(data.CifarTest!.Pooled, data.CifarTest.Pooled);
        Assert.Equal(1.0, p);
        Assert.Equal(1.0, r);
        var (pNoise, rNoise) = PrecisionRecall.Compute(data.CifarTest.Pooled, data.Noise!.Pooled);
        var (pTrain, rTrain) = PrecisionRecall.Compute(data.CifarTest.Pooled, data.CifarTrain!.Pooled[..500]);
        output.WriteLine($"precision/recall vs CIFAR test: train {pTrain:F3}/{rTrain:F3}, noise {pNoise:F3}/{rNoise:F3}");
        Assert.True(pNoise < 0.2 && pTrain > 0.5);
    }
}
