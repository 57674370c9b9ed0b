using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Quant;
using Qdm.Reconstruction;
using Qdm.Sampling;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Reconstruction;

public class ReconstructorTests(ITestOutputHelper output) : TempFolder
{
    private static DiffusionUNet Tiny(int seed)
    {
        var model = ModelFactory.Create(CheckpointLoadingTests.TinyDdpm);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: new Generator((ulong)seed)) * 0.1);
        return model;
    }

    private static (QuantizedUNet Q, DiffusionUNet Fp, CalibrationSet Data) Setup(int weightBits)
    {
        var fp = Tiny(3);
        var data = TrajectoryCollector.Collect(new DiffusionModel(fp, DiffusionConfig.DdpmLinear1000, "tiny"), new SamplerConfig { Steps = 4 },
            images: 8, batch: 8, seed: 2);
        var q = Quantization.Quantize(Tiny(3), new PlacementConfig { WeightBits = weightBits, EdgeLayers = EdgeLayers.Same });
        using (no_grad())
        using (q.Observe())
            foreach (var (_, x, t) in data.ByTimestep()) q.Network.call(x, t).Dispose();
        return (q, fp, data);
    }

    [Fact]
    public void Block_reconstruction_lowers_every_units_output_error_below_nearest_rounding()
    {
        var (q, fp, data) = Setup(weightBits: 3);
        var results = Reconstructor.Run(q, fp, data, new ReconstructionConfig { Iterations = 100, BatchSize = 8, WeightLearningRate = 1e-2 },
            Path.Combine(dir, "recon"));
        foreach (var r in results) output.WriteLine($"{r.Path}: {r.MseBefore:E3} → {r.MseAfter:E3}");
        Assert.Contains(results, r => r.Path == "down.0.block.0");          // blocks are units
        Assert.Contains(results, r => r.Path == "temb.dense.0");            // layers outside blocks are units
        Assert.DoesNotContain(results, r => r.Path == "down.0.block.0.conv1");
        // Errors include what earlier units pass on (inputs come from the quantized model), so gains per unit are modest.
        Assert.All(results, r => Assert.True(r.MseAfter <= r.MseBefore * 1.05, $"{r.Path}: {r.MseBefore} → {r.MseAfter}"));
        Assert.True(results.Count(r => r.MseAfter < r.MseBefore) >= 0.8 * results.Count, "most units must improve");
        Assert.True(results.Sum(r => r.MseAfter) < 0.95 * results.Sum(r => r.MseBefore));
        // Every weight now has a hard up/down decision.
        Assert.All(q.Weights, e => Assert.True(e.Quantizer.Rounding is { Hard: true }, e.Quantizer.Label));
    }

    [Fact]
    public void An_interrupted_run_resumes_at_the_next_unfinished_unit_with_the_same_result()
    {
        var (q, fp, data) = Setup(weightBits: 4);
        var config = new ReconstructionConfig { Iterations = 20, BatchSize = 8 };
        var folder = Path.Combine(dir, "recon");
        using var cancel = new CancellationTokenSource();
        int finished = 0;
        Assert.Throws<OperationCanceledException>(() => Reconstructor.Run(q, fp, data, config, folder,
            new SynchronousProgress<UnitResult>(_ => { if (++finished == 3) cancel.Cancel(); }), cancel: cancel.Token));

        var (q2, fp2, _) = Setup(weightBits: 4);
        var resumed = Reconstructor.Run(q2, fp2, data, config, folder);
        Assert.Equal(3, resumed.Count(r => r.Resumed));
        var (x, t) = (data.X[..4], data.ModelTimes[..4]);
        using var _ = no_grad();
        // The first three units' decisions came from the file: same as the interrupted run's.
        string[] early = { "temb.dense.0", "temb.dense.1", "conv_in" };
        Assert.Equal(early, resumed.Where(r => r.Resumed).Select(r => r.Path));
        var first = q.Weights.Where(e => early.Contains(e.Path)).Select(e => e.Quantizer.Rounding!.HardOffset()).ToList();
        var again = q2.Weights.Where(e => early.Contains(e.Path)).Select(e => e.Quantizer.Rounding!.HardOffset()).ToList();
        Assert.Equal(3, first.Count);
        for (int i = 0; i < first.Count; i++) Assert.Equal(0, TensorAssert.MaxAbsDiff(first[i], again[i]));
        Assert.True(q2.Network.call(x, t).isfinite().all().item<bool>());
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
