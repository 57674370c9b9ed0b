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

    /// <summary>The integer grid values (no STE), for export and inspection.</summary>
    public static Tensor ToIntegers(Tensor x, Tensor delta, Tensor zeroPoint, long qMin, long qMax) =>
        ((x / delta).round() + zeroPoint).clamp(qMin, qMax);
}
