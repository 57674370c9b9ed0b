using Qdm.Quant;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Quant;

public class UniformQuantizerTests
{
    private static UniformQuantizer Fixed(QuantizerSpec spec, float delta, float zeroPoint = 0)
    {
        var q = new UniformQuantizer(spec, "test");
        q.SetRange(tensor(new[] { delta }), tensor(new[] { zeroPoint }));
        return q;
    }

    [Fact]
    public void Symmetric_values_land_on_the_narrow_signed_grid_and_clip_at_its_ends()
    {
        var q = Fixed(new QuantizerSpec { Bits = 4, Symmetric = true }, 0.5f);
        var x = tensor(new[] { -10f, -3.6f, -0.26f, -0.24f, 0f, 0.74f, 0.76f, 3.4f, 10f });
        // grid: k·0.5 for k in −7..7 (narrow range), round half away from… torch rounds half to even, values avoid ties
        var expected = new[] { -3.5f, -3.5f, -0.5f, 0f, 0f, 0.5f, 1.0f, 3.5f, 3.5f };
        Assert.Equal(expected, q.call(x).data<float>().ToArray());
    }

    [Fact]
    public void Asymmetric_range_has_a_zero_point_that_represents_zero_exactly()
    {
        var spec = new QuantizerSpec { Bits = 8 };
        var (delta, zero) = RangeEstimation.ScaleAndZeroPoint(tensor(new[] { -1f }), tensor(new[] { 3f }), spec);
        Approx.Equal(4.0 / 255, delta.item<float>(), 1e-6);
        Assert.Equal(64f, zero.item<float>());   // round(1 / (4/255)) = round(63.75)
        var q = new UniformQuantizer(spec, "test");
        q.SetRange(delta, zero);
        var y = q.call(tensor(new[] { 0f, -1f, 3f, -5f, 9f })).data<float>().ToArray();
        Assert.Equal(0f, y[0]);
        Approx.Equal(-64 * 4.0 / 255, y[1], 1e-6);      // −1 lies on the grid only up to rounding of z
        Approx.Equal((255 - 64) * 4.0 / 255, y[4], 1e-6);   // clipped at q_max
        Approx.Equal(-64 * 4.0 / 255, y[3], 1e-6);      // clipped at q_min
    }

    [Fact]
    public void Per_channel_scales_are_independent()
    {
        var w = stack(new[] { full(new long[] { 3, 2 }, 0.5f), full(new long[] { 3, 2 }, 50f) }) * tensor(new[] { 1f, -1f }).reshape(1, 1, 2);
        var q = new UniformQuantizer(new QuantizerSpec { Bits = 8, Symmetric = true, PerChannel = true }, "w");
        q.CalibrateFrom(w);
        var d = q.Delta.data<float>().ToArray();
        Approx.Equal(0.5 / 127, d[0], 1e-6);
        Approx.Equal(50.0 / 127, d[1], 1e-6);
        Assert.True(TensorAssert.MaxAbsDiff(w, q.call(w)) < 1e-5 * 50);
    }

    [Theory]
    // top s = 0.5, 4 bits (exponents 0..15). Inputs are s·2^(−a); the expected levels are s·2^(−e/k) with e = round(k·a),
    // written out by hand: 0 where e > 15, the top where a < 0 (above the range), 0 for 0.
    [InlineData(QuantGrid.Log2, new[] { 0.0, -1.0, 3.3, 3.6, 15.4, 15.6 }, new[] { 0.0, 0.0, 3.0, 4.0, 15.0, double.PositiveInfinity })]
    [InlineData(QuantGrid.LogSqrt2, new[] { 0.0, -1.0, 3.3, 3.6, 7.6, 7.8 }, new[] { 0.0, 0.0, 3.5, 3.5, 7.5, double.PositiveInfinity })]
    public void Logarithmic_grids_round_the_exponent_and_drop_values_below_the_lowest_level(QuantGrid grid, double[] octaves, double[] expectedOctaves)
    {
        var q = Fixed(new QuantizerSpec { Bits = 4, Grid = grid }, 0.5f);
        var x = tensor(octaves.Select(a => (float)(0.5 * Math.Pow(2, -a))).Append(0f).ToArray());
        var expected = expectedOctaves.Select(e => (float)(0.5 * Math.Pow(2, -e))).Append(0f).ToArray();
        var actual = q.call(x).data<float>().ToArray();
        for (int i = 0; i < expected.Length; i++) Approx.Equal(expected[i], actual[i], 1e-6 * Math.Max(expected[i], 1e-9));
    }

    [Fact]
    public void Logarithmic_grid_takes_its_top_from_the_observed_maximum_and_passes_a_finite_gradient()
    {
        var spec = new QuantizerSpec { Grid = QuantGrid.LogSqrt2 };
        var (top, zero) = RangeEstimation.ScaleAndZeroPoint(tensor(new[] { 0f }), tensor(new[] { 0.7f }), spec);
        Assert.Equal(0.7f, top.item<float>());
        Assert.Equal(0f, zero.item<float>());
        var q = new UniformQuantizer(spec, "softmax");
        q.SetRange(top, zero);
        // 0 (an underflowed probability) must not turn the gradient into NaN; elsewhere ∂x̂/∂x = x̂/x, within a √2 step of 1.
        var x = tensor(new[] { 0f, 1e-3f, 0.05f, 0.3f }, requires_grad: true);
        q.call(x).sum().backward();
        var g = x.grad!.data<float>().ToArray();
        Assert.Equal(0f, g[0]);
        foreach (var v in g[1..]) Assert.InRange(v, 1 / Math.Sqrt(Math.Sqrt(2)) - 1e-6, Math.Sqrt(Math.Sqrt(2)) + 1e-6);
    }

    [Theory]
    [InlineData(true, false, RangeMethod.MinMax)]
    [InlineData(false, true, RangeMethod.MinMax)]
    [InlineData(false, false, RangeMethod.MseSearch)]
    public void Logarithmic_grids_are_only_per_tensor_unsigned_and_min_max(bool symmetric, bool perChannel, RangeMethod range)
    {
        var spec = new QuantizerSpec { Grid = QuantGrid.Log2, Symmetric = symmetric, PerChannel = perChannel, Range = range };
        var e = Assert.Throws<ArgumentException>(() => new UniformQuantizer(spec, "x"));
        Assert.Contains("Log2 grid", e.Message);
    }

    [Fact]
    public void Row_normalization_rescales_each_quantized_row_to_sum_to_one_and_leaves_an_all_zero_row_at_zero()
    {
        // Uniform, Δ = 0.1: [0.16, 0.16, 0.68] rounds to [0.2, 0.2, 0.7] (sum 1.1); [0.01, 0.02, 0.04] rounds to 0 entirely.
        var uniform = Fixed(new QuantizerSpec { Bits = 4, RowNormalized = true }, 0.1f);
        var y = uniform.call(tensor(new[] { 0.16f, 0.16f, 0.68f, 0.01f, 0.02f, 0.04f }).reshape(2, 3)).data<float>().ToArray();
        var expected = new[] { 0.2 / 1.1, 0.2 / 1.1, 0.7 / 1.1, 0, 0, 0 };
        for (int i = 0; i < 6; i++) Approx.Equal(expected[i], y[i], 1e-6);
        // Log2, top 0.5: [0.5, 0.35, 0.15] → exponents 0, ⌊0.515⌉ = 1, ⌊1.737⌉ = 2 → [0.5, 0.25, 0.125] (sum 0.875).
        var log = Fixed(new QuantizerSpec { Bits = 4, Grid = QuantGrid.Log2, RowNormalized = true }, 0.5f);
        var z = log.call(tensor(new[] { 0.5f, 0.35f, 0.15f }).reshape(1, 3)).data<float>().ToArray();
        var expectedLog = new[] { 0.5 / 0.875, 0.25 / 0.875, 0.125 / 0.875 };
        for (int i = 0; i < 3; i++) Approx.Equal(expectedLog[i], z[i], 1e-6);
        var e = Assert.Throws<ArgumentException>(() => new UniformQuantizer(new QuantizerSpec { PerChannel = true, RowNormalized = true }, "w"));
        Assert.Contains("row normalization", e.Message);
    }

    [Fact]
    public void Straight_through_gradient_is_one_inside_the_range_and_zero_outside()
    {
        var q = Fixed(new QuantizerSpec { Bits = 4, Symmetric = true }, 0.5f);
        var x = tensor(new[] { -9f, -1.3f, 0.2f, 2.9f, 9f }, requires_grad: true);
        q.call(x).sum().backward();
        Assert.Equal(new[] { 0f, 1f, 1f, 1f, 0f }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void Learnable_step_receives_a_gradient()
    {
        var q = new UniformQuantizer(new QuantizerSpec { Bits = 4, LearnableStep = true }, "lsq");
        q.SetRange(tensor(new[] { 0.1f }), tensor(new[] { 8f }));
        var x = randn(new long[] { 100 }, generator: new Generator(1));
        (q.call(x) - x).square().sum().backward();
        Assert.True(q.Delta.grad is not null && q.Delta.grad.abs().item<float>() > 0);
        Assert.Single(q.parameters());
    }

    [Fact]
    public void Mse_search_beats_min_max_on_heavy_tailed_data()
    {
        var g = new Generator(2);
        var x = cat(new[] { randn(new long[] { 10000 }, generator: g), tensor(new[] { 9f, -8f }) });   // two outliers stretch the min-max range
        var mm = new UniformQuantizer(new QuantizerSpec { Bits = 4 }, "minmax");
        mm.CalibrateFrom(x);
        var mse = new UniformQuantizer(new QuantizerSpec { Bits = 4, Range = RangeMethod.MseSearch }, "mse");
        mse.CalibrateFrom(x);
        double Error(UniformQuantizer q) => (q.call(x) - x).abs().pow(2.4).mean().item<float>();
        Assert.True(Error(mse) < 0.5 * Error(mm), $"mse {Error(mse)} vs min-max {Error(mm)}");
        Assert.True(mse.Delta.item<float>() < mm.Delta.item<float>());
    }

    [Fact]
    public void Percentile_range_ignores_the_extreme_tail()
    {
        var x = cat(new[] { linspace(-1, 1, 100000), tensor(new[] { 100f }) });
        var (lo, hi) = RangeEstimation.Percentiles(x, perChannel: false, upper: 99.9);
        Assert.InRange(hi.item<float>(), 0.99f, 1.0f);
        Assert.InRange(lo.item<float>(), -1.0f, -0.99f);
    }

    [Fact]
    public void An_activation_quantizer_is_refused_before_calibration_and_uses_observed_ranges_after()
    {
        var q = new UniformQuantizer(new QuantizerSpec { Bits = 8 }, "act");
        Assert.Contains("before calibration", Assert.Throws<InvalidOperationException>(() => q.call(ones(3))).Message);
        using (var observation = Observation.Over(new[] { q }))
        {
            observation.Timestep = 10;
            Assert.Equal(new[] { -2f, 1f }, q.call(tensor(new[] { -2f, 1f })).data<float>().ToArray());   // observing passes through
            observation.Timestep = 20;
            q.call(tensor(new[] { 0f, 3f }));
        }
        Approx.Equal(5.0 / 255, q.Delta.item<float>(), 1e-6);
        Assert.Equal(new RangeSample(20, 0f, 3f), q.RangeHistory[1]);
    }

    [Fact]
    public void Sixteen_bits_and_disabled_quantizers_pass_values_through_bit_for_bit()
    {
        var x = randn(new long[] { 1000 }, generator: new Generator(3));
        var wide = new UniformQuantizer(new QuantizerSpec { Bits = 16 }, "fp");
        Assert.Equal(0, TensorAssert.MaxAbsDiff(x, wide.call(x)));
        var off = Fixed(new QuantizerSpec { Bits = 2 }, 1f, 2f);
        off.Enabled = false;
        Assert.Equal(0, TensorAssert.MaxAbsDiff(x, off.call(x)));
    }
}
