using Qdm.Quant;
using static TorchSharp.torch;

namespace Qdm.Tests.Quant;

public class RangeEstimationTests
{
    /// <summary>
    /// The search as BRECQ's code states it: one candidate range at a time, quantized by the quantizer's own op
    /// (FakeQuant.Apply), error mean |x − x̂|^p (summed in float64 here, so the sum's order cannot decide), and a
    /// candidate replaces the best only when strictly better.
    /// </summary>
    private static Tensor SequentialSearch(Tensor x, QuantizerSpec spec)
    {
        var (min, max) = RangeEstimation.MinMax(x, spec.PerChannel);
        var flat = spec.PerChannel ? x.flatten(1) : x.reshape(1, -1);
        Tensor? bestDelta = null, bestError = null;
        for (int i = 0; i < spec.SearchSteps; i++)
        {
            var (delta, zero) = RangeEstimation.ScaleAndZeroPoint(min * (1 - 0.01f * i), max * (1 - 0.01f * i), spec);
            var q = FakeQuant.Apply(flat, delta.unsqueeze(1), zero.unsqueeze(1), spec.QMin, spec.QMax);
            var error = (flat - q).abs().pow(spec.LpNorm).to(ScalarType.Float64).mean(new long[] { 1 });
            if (bestError is null) { (bestDelta, bestError) = (delta, error); continue; }
            var better = error < bestError;
            bestDelta = where(better, delta, bestDelta!);
            bestError = where(better, error, bestError);
        }
        return bestDelta!;
    }

    public static TheoryData<bool, int, double, long> Cases => new()
    {
        // per-channel?, bits, p, values per candidate group (small ones force several groups, the last one short)
        { false, 8, 2.0, 16_000_000 },
        { false, 8, 2.4, 3 * 4001 },
        { false, 4, 2.4, 7 * 4001 },
        { false, 4, 2.0, 16_000_000 },
        { true, 8, 2.4, 16_000_000 },
        { true, 4, 2.4, 16_000_000 },
        { true, 4, 2.0, 5 * 16 * 250 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Grouped_in_place_search_picks_the_sequential_searchs_range(bool perChannel, int bits, double p, long groupValues)
    {
        var g = new Generator(11);
        // Heavy-tailed values (cubed normals; through SiLU for an activation's asymmetry) so that clipping pays.
        var x = perChannel
            ? randn(new long[] { 16, 250 }, generator: g).pow(3) * (0.5 + rand(new long[] { 16, 1 }, generator: g)) + 0.1
            : nn.functional.silu(randn(new long[] { 4001 }, generator: g).pow(3));
        var spec = new QuantizerSpec { Bits = bits, PerChannel = perChannel, Symmetric = perChannel, Range = RangeMethod.MseSearch, LpNorm = p };

        var expected = SequentialSearch(x, spec);
        var (delta, _) = RangeEstimation.MseSearch(x, spec, groupValues);

        Assert.Equal(expected.data<float>().ToArray(), delta.data<float>().ToArray());
        var (min, max) = RangeEstimation.MinMax(x, perChannel);
        var (widest, _) = RangeEstimation.ScaleAndZeroPoint(min, max, spec);
        if (bits == 4)   // at 8 bits p ≥ 2 rarely clips even heavy tails; at 4 bits it must, or the comparison would be trivial
            Assert.True((delta < widest).any().item<bool>(), "the 4-bit search should clip at least one range on heavy-tailed data");
    }
}
