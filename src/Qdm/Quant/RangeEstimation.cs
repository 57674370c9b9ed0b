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
    /// the one with the least mean |x − x̂|^p. Vectorised over slices; one pass over the tensor per candidate.
    /// </summary>
    public static (Tensor Delta, Tensor ZeroPoint) MseSearch(Tensor x, QuantizerSpec spec)
    {
        using var scope = NewDisposeScope();
        var data = x.detach();
        var (min, max) = MinMax(data, spec.PerChannel);
        var flat = spec.PerChannel ? data.flatten(1) : data.reshape(1, -1);
        Tensor? bestDelta = null, bestZero = null, bestError = null;
        for (int i = 0; i < spec.SearchSteps; i++)
        {
            double shrink = 1 - 0.01 * i;
            if (shrink <= 0) break;
            var (delta, zero) = ScaleAndZeroPoint(min * shrink, max * shrink, spec);
            var q = FakeQuant.Apply(flat, delta.unsqueeze(1), zero.unsqueeze(1), spec.QMin, spec.QMax);
            var error = (flat - q).abs().pow(spec.LpNorm).mean(new long[] { 1 });
            if (bestError is null) { bestDelta = delta; bestZero = zero; bestError = error; continue; }
            var better = error < bestError;
            bestDelta = where(better, delta, bestDelta!);
            bestZero = where(better, zero, bestZero!);
            bestError = where(better, error, bestError);
        }
        return (bestDelta!.MoveToOuterDisposeScope(), bestZero!.MoveToOuterDisposeScope());
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
