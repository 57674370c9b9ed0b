using Qdm.Quant;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Quant;

public class AdaRoundTests
{
    [Fact]
    public void Initial_soft_rounding_reproduces_the_weight_and_the_regulariser_scores_binary_offsets_zero()
    {
        var w = randn(new long[] { 4, 3, 3, 3 }, generator: new Generator(1));
        var q = new UniformQuantizer(new QuantizerSpec { Bits = 4, Symmetric = true, PerChannel = true }, "w");
        q.CalibrateFrom(w * 1.5);   // wider range than w: nothing clips, so the soft start equals w
        var adaround = q.StartAdaRound(w);
        Assert.True(TensorAssert.MaxAbsDiff(w, q.call(w)) < 1e-5);

        using (no_grad()) adaround.V.copy_(full_like(adaround.V, 10f));   // h = 1 everywhere
        Assert.Equal(0, adaround.Regulariser(2).item<float>(), 5);
        using (no_grad()) adaround.V.copy_(full_like(adaround.V, (float)Math.Log(1.2 / 0.6 - 1) * -1));   // σ(V) = 0.5 → h = 0.5
        Approx.Equal(w.numel(), adaround.Regulariser(2).item<float>(), 1e-4);
    }

    [Fact]
    public void Annealed_regulariser_drives_soft_rounding_to_binary_decisions()
    {
        // A layer's weights fitted by AdaRound: mean (xW̃ᵀ − xWᵀ)² + 0.01·Σ(1 − |2h − 1|^β), β annealed 20 → 2 after 20 % warm-up.
        var g = new Generator(3);
        var w = randn(new long[] { 16, 32 }, generator: g);
        var x = randn(new long[] { 256, 32 }, generator: g);
        var q = new UniformQuantizer(new QuantizerSpec { Bits = 4, Symmetric = true, PerChannel = true }, "w");
        q.CalibrateFrom(w);
        var adaround = q.StartAdaRound(w);
        var optimiser = TorchSharp.torch.optim.Adam(new[] { adaround.V }, 1e-2);
        var config = new Qdm.Reconstruction.ReconstructionConfig { Iterations = 2000 };
        var target = x.matmul(w.t());
        double Undecided() { using var h = adaround.SoftOffset(); return (h > 0.01).logical_and(h < 0.99).to(ScalarType.Float32).mean().item<float>(); }
        double initial = Undecided();
        for (int step = 0; step < config.Iterations; step++)
        {
            using var scope = NewDisposeScope();
            var loss = (x.matmul(q.call(w).t()) - target).square().mean();
            if (step >= config.WarmUp * config.Iterations) loss = loss + 0.01 * adaround.Regulariser(config.Beta(step, config.Iterations));
            optimiser.zero_grad();
            loss.backward();
            optimiser.step();
        }
        Assert.True(initial > 0.9, $"soft rounding starts undecided ({initial:P0})");
        Assert.True(Undecided() < 0.02, $"{Undecided():P1} of the offsets are still between 0.01 and 0.99");
        // And the decisions beat rounding to nearest on the layer's output.
        adaround.Hard = true;
        double adaroundError = (x.matmul(q.call(w).t()) - target).square().mean().item<float>();
        var nearest = new UniformQuantizer(q.Spec, "nearest");
        nearest.SetRange(q.Delta, q.ZeroPoint);
        double nearestError = (x.matmul(nearest.call(w).t()) - target).square().mean().item<float>();
        Assert.True(adaroundError < nearestError, $"AdaRound {adaroundError} vs nearest {nearestError}");
    }

    [Fact]
    public void Beta_stays_at_its_start_during_warm_up_then_falls_linearly_to_its_end()
    {
        var c = new Qdm.Reconstruction.ReconstructionConfig();
        Assert.Equal(20, c.Beta(0, 1000));
        Assert.Equal(20, c.Beta(199, 1000));
        Assert.Equal(11, c.Beta(600, 1000), 6);
        Assert.Equal(2, c.Beta(1000, 1000), 6);
    }

    [Fact]
    public void Hard_rounding_moves_each_weight_to_the_grid_point_below_or_above()
    {
        var w = randn(new long[] { 2, 8 }, generator: new Generator(2));
        var q = new UniformQuantizer(new QuantizerSpec { Bits = 8, Symmetric = true, PerChannel = true }, "w");
        q.CalibrateFrom(w);
        var adaround = q.StartAdaRound(w);
        adaround.Hard = true;
        var delta = q.Delta.reshape(-1, 1);
        var scaled = w / delta;
        var result = q.call(w) / delta;
        Assert.True(((result - scaled.floor()).abs() < 1e-4).logical_or((result - scaled.ceil()).abs() < 1e-4).all().item<bool>());
    }
}
