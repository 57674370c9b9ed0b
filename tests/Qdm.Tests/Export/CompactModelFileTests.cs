using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Export;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Quant;
using Qdm.Reconstruction;
using Qdm.Sampling;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Export;

public class CompactModelFileTests(ITestOutputHelper output) : TempFolder
{
    [Theory]
    [InlineData(8)]
    [InlineData(4)]
    [InlineData(3)]
    public void Integers_pack_and_unpack_exactly(int bits)
    {
        long max = (1L << (bits - 1)) - 1;
        var values = randint(-max, max + 1, new long[] { 7, 5, 3 }, generator: new Generator(1)).to(ScalarType.Float32);
        var packed = IntPacking.Pack(values, bits);
        Assert.Equal(bits > 4 ? values.numel() : (values.numel() + 1) / 2, packed.numel());
        Assert.Equal(0, TensorAssert.MaxAbsDiff(values, IntPacking.Unpack(packed, bits, values.shape)));
    }

    private QuantizedUNet Quantized(DiffusionModel model, PlacementConfig config, int iterations)
    {
        var data = TrajectoryCollector.Collect(model, DiffusionModel.DefaultSamplerFor(model.Config.Family, SamplerKind.Ddim, 3), images: 4, batch: 4, seed: 1);
        var q = Quantization.Quantize(ModelFactory.Load(new Qdm.Checkpoints.StateDict(model.Network.state_dict(), "copy"), model.Config), config);
        using (no_grad()) using (q.Observe()) foreach (var (_, x, t) in data.ByTimestep()) q.Network.call(x, t).Dispose();
        if (iterations > 0) Reconstructor.Run(q, model.Network, data, new ReconstructionConfig { Iterations = iterations, BatchSize = 4 }, Path.Combine(dir, $"work{config.WeightBits}"));
        return q;
    }

    [Theory]
    [InlineData(8, false, QuantGrid.Uniform, false)]
    [InlineData(4, true, QuantGrid.Uniform, false)]
    [InlineData(8, false, QuantGrid.LogSqrt2, true)]
    public void A_compact_file_reloads_without_checkpoint_or_calibration_and_reproduces_the_outputs_exactly(int weightBits, bool iddpm, QuantGrid attentionGrid, bool rowNormalized)
    {
        var fp = ModelFactory.Create(iddpm ? CheckpointLoadingTests.TinyIddpm : CheckpointLoadingTests.TinyDdpm);
        using (no_grad()) foreach (var p in fp.parameters()) p.copy_(randn(p.shape, generator: new Generator(5)) * 0.05);
        var model = new DiffusionModel(fp, iddpm ? DiffusionConfig.IddpmCosine4000 : DiffusionConfig.DdpmLinear1000, "tiny");
        var config = new PlacementConfig { WeightBits = weightBits, SplitTimeEmbedding = iddpm, IntegerKernels = true, AttentionGrid = attentionGrid, AttentionRowNormalized = rowNormalized };
        var q = Quantized(model, config, iterations: 5);
        var path = Path.Combine(dir, "tiny.qdm");
        CompactModelFile.Save(path, q, model.Diffusion, new Dictionary<string, string> { ["source"] = "test" });
        var (reloaded, diffusion, metadata) = CompactModelFile.Load(path);
        Assert.Equal(model.Diffusion, diffusion);
        Assert.Equal("test", metadata["source"]);
        Assert.Equal(config.Describe(), reloaded.Config.Describe());
        var x = randn(new long[] { 3, model.Config.InChannels, 16, 16 }, generator: new Generator(2));
        var t = tensor(new float[] { 10, 500, 900 });
        using var _ = no_grad();
        Assert.Equal(0, TensorAssert.MaxAbsDiff(q.Network.call(x, t), reloaded.Network.call(x, t)));
    }

    [SkippableTheory]
    [InlineData(8, 0.27)]
    [InlineData(4, 0.15)]
    public void Compact_files_of_the_real_cifar10_model_meet_the_size_targets(int weightBits, double target)
    {
        var checkpoint = SharedAssets.Require("models/ddpm_cifar10_ch32_ema.ckpt");
        var model = ModelLoader.Load(new ModelLoadOptions(checkpoint));
        var q = Quantized(model, new PlacementConfig { WeightBits = weightBits, Weights = new Qdm.Quant.QuantizerSpec { Symmetric = true, PerChannel = true } }, iterations: 0);
        var path = Path.Combine(dir, $"w{weightBits}.qdm");
        CompactModelFile.Save(path, q, model.Diffusion, new Dictionary<string, string>());
        double ratio = (double)new FileInfo(path).Length / new FileInfo(checkpoint).Length;
        output.WriteLine($"W{weightBits}: {new FileInfo(path).Length:N0} bytes = {ratio:F3} × the FP32 checkpoint ({new FileInfo(checkpoint).Length:N0})");
        Assert.True(ratio <= target, $"{ratio:F3} > {target}");
    }
}
