using static TorchSharp.torch;

namespace Qdm.Quant;

/// <summary>Fake quantization as tensor ops with straight-through gradients (Bengio et al. 2013; Esser et al. 2020).</summary>
public static class FakeQuant
{
    /// <summary>round(v) forward, identity backward.</summary>
    public static Tensor RoundSte(Tensor v) => v + (v.round() - v).detach();

    /// <summary>LSQ's gradient scaling: value unchanged, gradient multiplied by scale.</summary>
    public static Tensor GradScale(Tensor v, double scale) => (v - v * scale).detach() + v * scale;

    /// <summary>
    /// x̂ = (clamp(⌊x/Δ⌉ + z, q_min, q_max) − z)·Δ. Gradient: 1 for x inside the clipping range, 0 outside (clamp), and
    /// LSQ's ∂x̂/∂Δ through both x/Δ and ·Δ when Δ requires grad. Δ and z broadcast against x (per-channel shapes [C,1,..]).
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor delta, Tensor zeroPoint, long qMin, long qMax)
    {
        var integer = (RoundSte(x / delta) + zeroPoint).clamp(qMin, qMax);
        return (integer - zeroPoint) * delta;
    }

    /// <summary>
    /// Logarithmic grid below the top s (FQ-ViT's Log2 for k = 1, RepQ-ViT's log√2 for k = 2): e = ⌊−k·log2(x/s)⌉,
    /// x̂ = s·2^(−clamp(e, 0, L)/k), and x̂ = 0 where e > L (below the lowest level; also x = 0). Relative steps are
    /// equal at every magnitude, so the many small softmax probabilities keep their size where a uniform grid rounds them
    /// to 0. Gradient: straight through the rounding (∂x̂/∂x = x̂/x ≈ 1), 0 below the lowest level.
    /// </summary>
    public static Tensor ApplyLog(Tensor x, Tensor top, int levelsPerOctave, long lastLevel)
    {
        // The floor keeps log2 finite (x = 0 would give an infinite exponent and NaN gradients through where).
        var exponent = RoundSte(-levelsPerOctave * (x.clamp_min(1e-30) / top).log2());
        var below = (exponent > lastLevel).detach();
        var value = top * exp2(-exponent.clamp(0, lastLevel) / levelsPerOctave);
        return where(below, zeros_like(value), value);
    }

    /// <summary>
    /// ŷ / Σ_last ŷ: quantized softmax rows rescaled to sum to 1 (the sum's floor keeps a row rounded entirely to 0 at 0).
    /// In integer deployment this is one float scale per row, applied to the A·V output.
    /// </summary>
    public static Tensor NormalizeRows(Tensor y) => y / y.sum(-1, keepdim: true).clamp_min(1e-30);

    /// <summary>The integer grid values (no STE), for export and inspection.</summary>
    public static Tensor ToIntegers(Tensor x, Tensor delta, Tensor zeroPoint, long qMin, long qMax) =>
        ((x / delta).round() + zeroPoint).clamp(qMin, qMax);
}
