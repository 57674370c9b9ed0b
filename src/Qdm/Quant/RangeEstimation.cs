using static TorchSharp.torch;

namespace Qdm.Quant;

/// <summary>Clipping ranges → step size Δ and zero point z. Ranges are per tensor ([1]) or per slice of axis 0 ([C]).</summary>
public static class RangeEstimation
{
    /// <summary>Per-slice (or whole-tensor) minimum and maximum, as float32 [C] or [1].</summary>
    public static (Tensor Min, Tensor Max) MinMax(Tensor x, bool perChannel)
    {
        var flat = perChannel ? x.detach().flatten(1) : x.detach().reshape(1, -1);
        return (flat.amin(1), flat.amax(1));
    }

    /// <summary>Low/high percentiles per slice: kthvalue, so any tensor size works.</summary>
    public static (Tensor Min, Tensor Max) Percentiles(Tensor x, bool perChannel, double upper)
    {
        var flat = perChannel ? x.detach().flatten(1) : x.detach().reshape(1, -1);
        long n = flat.shape[1];
        long hi = Math.Clamp((long)Math.Ceiling(upper / 100 * n), 1, n), lo = Math.Clamp(n + 1 - hi, 1, n);
        return (flat.kthvalue(lo, 1).values, flat.kthvalue(hi, 1).values);
    }

    /// <summary>Δ, z for a range (widened to include 0, as every affine int grid must represent 0 exactly).</summary>
    public static (Tensor Delta, Tensor ZeroPoint) ScaleAndZeroPoint(Tensor min, Tensor max, QuantizerSpec spec)
    {
        // A logarithmic grid's levels hang below its top: the maximum itself, with no zero point.
        if (spec.Grid != QuantGrid.Uniform) return (max.clamp_min(1e-8), zeros_like(max));
        var lo = min.clamp_max(0);
        var hi = max.clamp_min(0);
        if (spec.Symmetric)
        {
            var delta = (maximum(lo.abs(), hi) / spec.QMax).clamp_min(1e-8);
            return (delta, zeros_like(delta));
        }
        var d = ((hi - lo) / (spec.QMax - spec.QMin)).clamp_min(1e-8);
        var z = (-lo / d).round().clamp(spec.QMin, spec.QMax);
        return (d, z);
    }

    /// <summary>
    /// BRECQ / QDrop "mse" initialisation: for i = 0..S−1 try the range (min, max)·(1 − 0.01·i) and keep, per slice,
    /// the one with the least mean |x − x̂|^p. Candidates are evaluated in groups stacked on a leading axis
    /// ([G, C, N], at most <paramref name="groupValues"/> values at once), so the op count does not grow with S; the
    /// default group (4 MB of float32) stays in the CPU's last-level cache across the error's passes.
    /// </summary>
    public static (Tensor Delta, Tensor ZeroPoint) MseSearch(Tensor x, QuantizerSpec spec, long groupValues = 16_000_000)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var data = x.detach();
        var (min, max) = MinMax(data, spec.PerChannel);
        var flat = spec.PerChannel ? data.flatten(1) : data.reshape(1, -1);                 // [C, N]
        int steps = Math.Min(spec.SearchSteps, 100);
        int group = (int)Math.Clamp(groupValues / Math.Max(1, flat.numel()), 1, steps);
        Tensor? bestDelta = null, bestZero = null, bestError = null;
        for (int first = 0; first < steps; first += group)
        {
            int count = Math.Min(group, steps - first);
            var shrink = (1 - 0.01 * arange(first, first + count, dtype: ScalarType.Float32)).unsqueeze(1);   // [G, 1]
            var (delta, zero) = ScaleAndZeroPoint(min.unsqueeze(0) * shrink, max.unsqueeze(0) * shrink, spec);  // [G, C]
            var error = LpError(flat, delta, zero, spec);                                                    // [G, C]
            var (groupError, index) = error.min(0);                                                          // best per slice
            var groupDelta = delta.gather(0, index.unsqueeze(0)).squeeze(0);
            var groupZero = zero.gather(0, index.unsqueeze(0)).squeeze(0);
            if (bestError is null) { (bestDelta, bestZero, bestError) = (groupDelta, groupZero, groupError); continue; }
            var better = groupError < bestError;   // strict: ties keep the wider (earlier) range, as the sequential search does
            bestDelta = where(better, groupDelta, bestDelta!);
            bestZero = where(better, groupZero, bestZero!);
            bestError = where(better, groupError, bestError);
        }
        return (bestDelta!.MoveToOuterDisposeScope(), bestZero!.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// mean |x − x̂|^p per candidate and slice ([G, C]) for x [C, N] and candidate grids [G, C]: FakeQuant.Apply's
    /// arithmetic op for op (its forward rounding is exactly round()), but in one buffer, in place, since the search
    /// needs no gradient. Allocating a fresh [G, C, N] tensor for every op made the search most of a quantization run.
    /// </summary>
    private static Tensor LpError(Tensor flat, Tensor delta, Tensor zero, QuantizerSpec spec)
    {
        var d = delta.unsqueeze(2);
        var z = zero.unsqueeze(2);
        var x = flat.unsqueeze(0);
        // clamp(⌊x/Δ⌉ + z, q_min, q_max) − z = clamp(⌊x/Δ⌉, q_min − z, q_max − z) exactly: all are integers far below 2^24,
        // except ⌊x/Δ⌉ values so large that both forms clamp them.
        var buffer = x.div(d);
        buffer.round_().clamp_(spec.QMin - z, spec.QMax - z).mul_(d)   // x̂
              .sub_(x).abs_().pow_(spec.LpNorm);                        // |x̂ − x|^p = |x − x̂|^p
        return buffer.mean(new long[] { 2 });
    }

    /// <summary>Δ, z for a tensor by the spec's method.</summary>
    public static (Tensor Delta, Tensor ZeroPoint) Estimate(Tensor x, QuantizerSpec spec) => spec.Range switch
    {
        RangeMethod.MinMax => ScaleAndZeroPoint(MinMax(x, spec.PerChannel).Min, MinMax(x, spec.PerChannel).Max, spec),
        RangeMethod.Percentile => PercentileRange(x, spec),
        RangeMethod.MseSearch => MseSearch(x, spec),
        _ => throw new ArgumentOutOfRangeException(nameof(spec)),
    };

    private static (Tensor, Tensor) PercentileRange(Tensor x, QuantizerSpec spec)
    {
        var (lo, hi) = Percentiles(x, spec.PerChannel, spec.Percentile);
        return ScaleAndZeroPoint(lo, hi, spec);
    }
}
