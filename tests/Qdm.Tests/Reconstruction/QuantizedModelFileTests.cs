using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Reconstruction;
using Qdm.Sampling;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Reconstruction;

public class QuantizedModelFileTests : TempFolder
{
    [Fact]
    public void A_saved_quantized_model_reloads_without_calibration_and_reproduces_the_outputs_exactly()
    {
        var fp = ModelFactory.Create(CheckpointLoadingTests.TinyIddpm);
        using (no_grad()) foreach (var p in fp.parameters()) p.copy_(randn(p.shape, generator: new Generator(5)) * 0.05);
        var checkpoint = Path.Combine(dir, "fp.safetensors");
        Qdm.IO.Safetensors.Write(checkpoint, fp.state_dict());

        var model = ModelLoader.Load(new ModelLoadOptions(checkpoint) { ImageSize = 16, NumHeads = 2 });
        var data = TrajectoryCollector.Collect(model, new SamplerConfig { Steps = 3, Skip = SkipKind.Even }, images: 4, batch: 4, seed: 1);
        var config = new PlacementConfig { WeightBits = 4, SplitTimeEmbedding = true, IntegerKernels = true };
        var q = Quantization.Quantize(ModelLoader.Load(new ModelLoadOptions(checkpoint) { ImageSize = 16, NumHeads = 2 }).Network, config);
        using (no_grad()) using (q.Observe()) foreach (var (_, x, t) in data.ByTimestep()) q.Network.call(x, t).Dispose();
        Reconstructor.Run(q, model.Network, data, new ReconstructionConfig { Iterations = 5, BatchSize = 4 }, Path.Combine(dir, "work"));

        var path = Path.Combine(dir, "tiny.qdm");
        QuantizedModelFile.Save(path, q, new QuantizationRecord("tiny", checkpoint, QuantizedModelFile.Sha256(checkpoint), 16, 2,
            model.Config.Describe(), model.Diffusion.Describe(), config, "test", "test", 0));
        var (_, reloaded, record) = QuantizedModelFile.Load(path);
        Assert.Equal(config.Describe(), record.Placement.Describe());

        using var _ = no_grad();
        var (xs, ts) = (data.X[..4], data.ModelTimes[..4]);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(q.Network.call(xs, ts), reloaded.Network.call(xs, ts)));

        // The file is refused with another FP checkpoint.
        Qdm.IO.Safetensors.Write(checkpoint, ModelFactory.Create(CheckpointLoadingTests.TinyIddpm).state_dict());
        Assert.Contains("sha256", Assert.Throws<QdmInputException>(() => QuantizedModelFile.Load(path)).Message);
    }
}
