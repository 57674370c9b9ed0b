using Qdm.Calibration;
using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Sampling;
using Qdm.Tests.Models;
using static TorchSharp.torch;

namespace Qdm.Tests.Calibration;

public class CalibrationDataTests
{
    private static DiffusionModel Tiny()
    {
        var network = ModelFactory.Create(CheckpointLoadingTests.TinyDdpm);
        using (no_grad()) foreach (var p in network.parameters()) p.copy_(randn(p.shape, generator: new Generator(8)) * 0.02);
        return new DiffusionModel(network, DiffusionConfig.DdpmLinear1000, "tiny");
    }

    /// <summary>Φ(z) by the Abramowitz–Stegun erf approximation (|error| &lt; 1.5e-7).</summary>
    private static double Phi(double z)
    {
        double x = Math.Abs(z) / Math.Sqrt(2), t = 1 / (1 + 0.3275911 * x);
        double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return 0.5 * (1 + Math.Sign(z) * erf);
    }

    [Fact]
    public void Ndtc_positions_follow_the_clamped_normal_of_ptq4dm()
    {
        const int steps = 100, n = 40000;
        var draws = new TimestepDistribution { Kind = TimestepDistributionKind.Normal }.DrawPositions(n, steps, new Random(1));
        // k = ⌊x⌋ with x ~ N(40, 40): k ≤ 0 ⇔ x < 1; k ≥ 99 ⇔ x ≥ 99; k = 40 ⇔ 40 ≤ x < 41.
        double atStart = draws.Count(k => k == 0) / (double)n, atEnd = draws.Count(k => k == steps - 1) / (double)n;
        double at40 = draws.Count(k => k == 40) / (double)n;
        Assert.InRange(atStart, Phi((1 - 40) / 40.0) - 0.006, Phi((1 - 40) / 40.0) + 0.006);   // ≈ 16.5 %
        Assert.InRange(atEnd, 1 - Phi((99 - 40) / 40.0) - 0.005, 1 - Phi((99 - 40) / 40.0) + 0.005);   // ≈ 7.0 %
        Assert.InRange(at40, Phi(1 / 40.0) - Phi(0) - 0.003, Phi(1 / 40.0) - Phi(0) + 0.003);
        var inside = draws.Where(k => k is > 0 and < steps - 1).ToArray();
        // Mean of ⌊x⌋ for x ~ N(40, 40) restricted to [1, 99): the truncated-normal mean minus ½ (floor), ≈ 45.1.
        double a = (1 - 40) / 40.0, b = (99 - 40) / 40.0;
        double pdf(double z) => Math.Exp(-z * z / 2) / Math.Sqrt(2 * Math.PI);
        double truncatedMean = 40 + 40 * (pdf(a) - pdf(b)) / (Phi(b) - Phi(a)) - 0.5;
        Assert.InRange(inside.Average(), truncatedMean - 0.5, truncatedMean + 0.5);
    }

    [Fact]
    public void Uniform_positions_cover_the_trajectory_evenly_from_first_to_last_step()
    {
        var d = new TimestepDistribution { UniformPositions = 5 };
        // sampling indices round(j·99/4) = 0, 25, 50, 74, 99 (half to even) → positions k = 99 − index
        Assert.Equal(new[] { 99, 74, 49, 25, 0 }, Enumerable.Range(0, 5).Select(j => d.UniformPosition(j, 100)).ToArray());
    }

    [Fact]
    public void Forward_diffused_data_has_the_forward_process_mean_and_variance()
    {
        var model = Tiny();
        const int images = 400;
        var config = new CalibrationConfig
        {
            Scheme = CalibrationScheme.Data, Samples = 2 * images, SamplingSteps = 10, DataPath = "in memory",
            Timesteps = new TimestepDistribution { UniformPositions = 2 },
        };
        // uint8 191 → 191/127.5 − 1 = 0.498…: the model-space value of the constant image.
        var constant = full(new long[] { images, 16, 16, 3 }, (byte)191, ScalarType.Byte);
        double x0 = 191 / 127.5 - 1;
        var set = CalibrationData.Build(model, config, n => new[] { constant });
        var diffusion = new GaussianDiffusion(model.Diffusion);
        var seen = set.Timesteps.data<long>().Distinct().Order().ToArray();
        Assert.Equal(new long[] { 0, 900 }, seen);
        foreach (long t in seen)
        {
            var xs = set.X.index_select(0, (set.Timesteps == t).nonzero().flatten());
            double ab = diffusion.AlphasCumprod[t];
            long n = xs.numel();
            double mean = xs.mean().item<float>(), variance = xs.var().item<float>();
            Assert.InRange(mean, Math.Sqrt(ab) * x0 - 4 * Math.Sqrt((1 - ab) / n), Math.Sqrt(ab) * x0 + 4 * Math.Sqrt((1 - ab) / n));
            Assert.InRange(variance, (1 - ab) * 0.97, (1 - ab) * 1.03);
        }
    }

    [Fact]
    public void Trajectory_schemes_take_network_inputs_at_the_trajectorys_real_time_steps()
    {
        var model = Tiny();
        foreach (var kind in new[] { TimestepDistributionKind.Uniform, TimestepDistributionKind.Normal })
        {
            var set = CalibrationData.Build(model, new CalibrationConfig
            {
                Scheme = kind == TimestepDistributionKind.Uniform ? CalibrationScheme.Uniform : CalibrationScheme.Normal,
                Samples = 12, SamplingSteps = 10, Batch = 4,
                Timesteps = new TimestepDistribution { Kind = kind, UniformPositions = 3 },
            });
            Assert.Equal(12, set.Count);
            var trajectory = Respacing.Uniform(1000, 10);
            Assert.All(set.Timesteps.data<long>().ToArray(), t => Assert.Contains((int)t, trajectory));
            Assert.Equal(set.Timesteps.data<long>().Select(t => (float)t).ToArray(), set.ModelTimes.data<float>().ToArray());
        }
    }
}
