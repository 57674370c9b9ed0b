using Qdm.Metrics.ResNet18;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class ResNet18FeatureNetworkTests(ITestOutputHelper output)
{
    [Fact]
    public void Both_onnx_graphs_load_and_give_finite_512d_features_independent_of_batch_size()
    {
        using var network = new ResNet18FeatureNetwork(ResNet18FeatureNetwork.DefaultModelsFolder, threads: 2);
        var images = randint(0, 256, new long[] { 16, 32, 32, 3 }, generator: new Generator(3)).to(ScalarType.Byte);
        var batch = network.Extract(images);
        Assert.Equal(new long[] { 16, 512 }, batch.Pooled.shape);
        Assert.Equal(new long[] { 16, 14 * 14 * 7 }, batch.Spatial.shape);
        Assert.True(batch.Pooled.isfinite().all().item<bool>() && batch.Spatial.isfinite().all().item<bool>());
        Assert.True(batch.Pooled.std().item<float>() > 1e-3, "features must vary");

        var single = cat(Enumerable.Range(0, 16).Select(i => network.Extract(images[i..(i + 1)]).Pooled).ToArray(), 0);
        double scale = batch.Pooled.abs().max().item<float>();
        double d = TensorAssert.MaxAbsDiff(batch.Pooled, single);
        output.WriteLine($"batch 16 vs 1: max |Δ| = {d:G3} (features up to {scale:G3})");
        Assert.True(d <= 1e-5 * Math.Max(1, scale), $"batch 1 and 16 disagree by {d}");
    }
}
