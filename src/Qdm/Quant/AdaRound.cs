using TorchSharp;
using static TorchSharp.torch;

namespace Qdm.Quant;

/// <summary>
/// AdaRound (Nagel et al. 2020): each weight rounds down or up, decided by a learned V through the rectified sigmoid
/// h(V) = clip(σ(V)·(ζ − γ) + γ, 0, 1), ζ = 1.1, γ = −0.1 (eq. 23). V starts where h(V) equals the fractional part of W/Δ,
/// so the first soft rounding reproduces W exactly. Hard rounding takes h = 1 where V ≥ 0.
/// </summary>
public sealed class AdaRound : nn.Module
{
    private const double Zeta = 1.1, Gamma = -0.1;
    private readonly TorchSharp.Modules.Parameter v;

    public bool Hard { get; set; }
    public TorchSharp.Modules.Parameter V => v;

    public AdaRound(Tensor scaledWeight) : base(nameof(AdaRound))
    {
        using var _ = no_grad();
        using var rest = scaledWeight - scaledWeight.floor();
        // h(V) = rest ⇒ σ(V) = (rest − γ)/(ζ − γ) ⇒ V = −log((ζ − γ)/(rest − γ) − 1)
        var init = -(((Zeta - Gamma) / (rest - Gamma)) - 1).log();
        v = new TorchSharp.Modules.Parameter(init.DetachFromDisposeScope(), requires_grad: true);
        register_parameter("v", v);
    }

    /// <summary>The soft rounding offset h(V) ∈ [0, 1].</summary>
    public Tensor SoftOffset() => (v.sigmoid() * (Zeta - Gamma) + Gamma).clamp(0, 1);

    /// <summary>The hard rounding decisions (0 = down, 1 = up).</summary>
    public Tensor HardOffset() => (v >= 0).to(ScalarType.Float32);

    /// <summary>⌊W/Δ⌋ + h: soft while learning, hard once decided.</summary>
    public Tensor Round(Tensor scaledWeight) => scaledWeight.detach().floor() + (Hard ? HardOffset() : SoftOffset());

    /// <summary>Rounding regulariser Σ 1 − |2h(V) − 1|^β (eq. 24): pushes every h to 0 or 1 as β anneals down.</summary>
    public Tensor Regulariser(double beta) => (1 - (SoftOffset() * 2 - 1).abs().pow(beta)).sum();

    /// <summary>Sets the decisions directly (reloading a reconstructed model): V = +1 for up, −1 for down.</summary>
    public void SetDecisions(Tensor roundUp)
    {
        using var _ = no_grad();
        v.copy_(roundUp.to(ScalarType.Float32) * 2 - 1);
        Hard = true;
    }
}
