using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Sampling;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Calibration;

public class TrajectoryCollectorTests : TempFolder
{
    [Fact]
    public void Collects_every_kept_step_with_its_time_step_and_round_trips_through_a_file()
    {
        var network = ModelFactory.Create(CheckpointLoadingTests.TinyDdpm);
        var model = new DiffusionModel(network, DiffusionConfig.DdpmLinear1000, "tiny");
        var sampler = new SamplerConfig { Steps = 5 };
        var set = TrajectoryCollector.Collect(model, sampler, images: 3, batch: 2, seed: 1, keepStep: i => i % 2 == 0);
        Assert.Equal(3 * 3, set.Count);   // steps 0, 2, 4 of 5, for 3 images
        Assert.Equal(new long[] { 800, 400, 0 }, set.Timesteps.data<long>().Distinct().Order().Reverse().ToArray());
        // The first kept input of each image is its x_T: the same per-image noise the sampler starts from.
        using var noise = new PerImageNoise(1, 0, 3);
        var xT = noise.Next(new long[] { 3, 16, 16 });
        var firstStep = set.X.index_select(0, (set.Timesteps == 800).nonzero().flatten());
        Assert.False(set.X.isnan().any().item<bool>(), $"NaN in X: {set.X.isnan().sum().item<long>()} of {set.X.numel()}; first-step NaN {firstStep.isnan().sum().item<long>()}");
        Assert.Equal(0, TensorAssert.MaxAbsDiff(xT, firstStep));

        var path = Path.Combine(dir, "calib.safetensors");
        set.Save(path);
        var back = CalibrationSet.Load(path);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(set.X, back.X));
        Assert.Equal(set.ModelTimes.data<float>().ToArray(), back.ModelTimes.data<float>().ToArray());
    }
}
