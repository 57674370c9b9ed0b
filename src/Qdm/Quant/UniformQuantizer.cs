using TorchSharp;
using static TorchSharp.torch;

namespace Qdm.Quant;

/// <summary>
/// Uniform affine fake quantizer for one tensor (a weight or an activation), per tensor or per output channel; for
/// non-negative activations (softmax probabilities) optionally on a logarithmic grid instead, whose Δ is then the top
/// level and z is 0 (<see cref="QuantGrid"/>).
/// States: pass-through until calibrated; observing inside an <see cref="Observation"/>; then quantizing with fixed
/// (or LSQ-learnable) Δ and z. Using an uncalibrated, enabled quantizer throws: nothing is initialised lazily.
/// </summary>
public sealed class UniformQuantizer : nn.Module<Tensor, Tensor>
{
    private const int ReservoirSize = 1 << 18;
    private Observation? observation;
    private float? observedMin, observedMax;
    private Tensor? reservoir;   // kept outside every dispose scope: it lives across forward calls
    private Tensor? zeroPoint;
    private TorchSharp.Modules.Parameter? delta;
    private readonly Generator sampler = new(12345);

    public QuantizerSpec Spec { get; }
    /// <summary>Where in the model this quantizer sits (for messages and reports).</summary>
    public string Label { get; set; }
    /// <summary>False: the quantizer passes its input through bit for bit.</summary>
    public bool Enabled { get; set; } = true;
    public bool IsCalibrated => delta is not null;
    public List<RangeSample> RangeHistory { get; } = new();
    /// <summary>When set, every quantizing forward adds its squared error here (for reports).</summary>
    public ErrorProbe? Probe { get; set; }
    /// <summary>AdaRound decisions for a weight quantizer (null: round to nearest).</summary>
    public AdaRound? Rounding { get; private set; }
    /// <summary>QDrop (Wei et al. 2022): with this probability each element keeps its full-precision value (reconstruction only).</summary>
    public double DropProbability { get; set; }

    /// <summary>The integer grid values of x (AdaRound decisions applied when present), for export.</summary>
    public Tensor Integers(Tensor x)
    {
        if (delta is null) throw NotCalibrated();
        if (Spec.Grid != QuantGrid.Uniform) throw new NotSupportedException($"{Label}: a {Spec.Grid} grid has exponents, not affine integers.");
        using var _ = no_grad();
        var shape = PerChannelShape(x);
        var step = delta.detach().reshape(shape);
        var z = zeroPoint!.reshape(shape);
        var rounded = Rounding is not null ? Rounding.Round(x / step) : (x / step).round();
        return (rounded + z).clamp(Spec.QMin, Spec.QMax);
    }

    /// <summary>LSQ: makes the calibrated step size trainable (activations, during reconstruction).</summary>
    public TorchSharp.Modules.Parameter EnableStepLearning()
    {
        if (delta is null) throw NotCalibrated();
        delta.requires_grad = true;
        return delta;
    }

    /// <summary>Starts AdaRound for this (weight) quantizer from the weight it quantizes.</summary>
    public AdaRound StartAdaRound(Tensor weight)
    {
        if (delta is null) throw NotCalibrated();
        using var _ = no_grad();
        using var scaled = weight.detach() / delta.reshape(PerChannelShape(weight));
        Rounding = new AdaRound(scaled);
        register_module("rounding", Rounding);
        return Rounding;
    }

    public UniformQuantizer(QuantizerSpec spec, string label) : base(nameof(UniformQuantizer))
    {
        Spec = spec.Validated();
        Label = label;
    }

    public Tensor Delta => delta ?? throw NotCalibrated();
    public Tensor ZeroPoint => zeroPoint ?? throw NotCalibrated();

    /// <summary>Sets Δ and z from a known tensor (weights).</summary>
    public void CalibrateFrom(Tensor x)
    {
        var (d, z) = RangeEstimation.Estimate(x, Spec);
        SetRange(d, z);
    }

    public void SetRange(Tensor newDelta, Tensor newZeroPoint)
    {
        using var _ = no_grad();
        var d = newDelta.detach().to(ScalarType.Float32).flatten().clone().DetachFromDisposeScope();
        delta = new TorchSharp.Modules.Parameter(d, requires_grad: Spec.LearnableStep);
        delta.DetachFromDisposeScope();
        zeroPoint = newZeroPoint.detach().to(ScalarType.Float32).flatten().clone().DetachFromDisposeScope();
        register_parameter_or_replace("delta", delta);
    }

    public override Tensor forward(Tensor x)
    {
        if (!Enabled || Spec.PassThrough) return x.alias();
        if (observation is { IsOpen: true })
        {
            Observe(x);
            return x.alias();
        }
        if (delta is null) throw NotCalibrated();
        var shape = PerChannelShape(x);
        Tensor step = delta.reshape(shape);
        if (Rounding is not null)
        {
            // W̃ = Δ·(clamp(⌊W/Δ⌋ + h + z, q_min, q_max) − z): only h carries a gradient.
            var z = zeroPoint!.reshape(shape);
            var integer = (Rounding.Round(x / step.detach()) + z).clamp(Spec.QMin, Spec.QMax);
            return (integer - z) * step.detach();
        }
        if (step.requires_grad)
            step = FakeQuant.GradScale(step, 1.0 / Math.Sqrt(x.numel() / Math.Max(1, delta.numel()) * Spec.QMax));   // LSQ g = 1/√(N·Q_p)
        var y = Spec.Grid == QuantGrid.Uniform ? FakeQuant.Apply(x, step, zeroPoint!.reshape(shape), Spec.QMin, Spec.QMax)
            : FakeQuant.ApplyLog(x, step, Spec.LevelsPerOctave, Spec.QMax);
        if (Spec.RowNormalized) y = FakeQuant.NormalizeRows(y);
        Probe?.Add(x, y);
        if (DropProbability > 0) y = where(rand_like(x) < DropProbability, x, y);
        return y;
    }

    private long[] PerChannelShape(Tensor x) =>
        Spec.PerChannel ? new long[] { -1 }.Concat(Enumerable.Repeat(1L, (int)x.dim() - 1)).ToArray() : new long[] { 1 };

    internal void BeginObservation(Observation scope)
    {
        if (Spec.PerChannel) throw new InvalidOperationException($"{Label}: per-channel quantizers are calibrated from weights, not observed.");
        observation = scope;
        scope.Enlist(this);
    }

    private void Observe(Tensor x)
    {
        using var _ = no_grad();
        using var flat = x.detach().flatten().to(ScalarType.Float32);
        float min = flat.min().item<float>(), max = flat.max().item<float>();
        RangeHistory.Add(new RangeSample(observation!.Timestep, min, max));
        observedMin = Math.Min(observedMin ?? min, min);
        observedMax = Math.Max(observedMax ?? max, max);
        if (Spec.Range == RangeMethod.MinMax) return;
        // Keep a bounded uniform sample of the values for percentile / MSE initialisation.
        using var scope = NewDisposeScope();
        var take = flat.numel() <= ReservoirSize / 4 ? flat.clone()
            : flat.index_select(0, randint(0, flat.numel(), new long[] { ReservoirSize / 4 }, generator: sampler));
        var merged = reservoir is null ? take : cat(new[] { reservoir, take }, 0);
        if (merged.numel() > ReservoirSize)
            merged = merged.index_select(0, randperm(merged.numel(), generator: sampler)[..ReservoirSize]);
        reservoir?.Dispose();
        reservoir = merged.DetachFromDisposeScope();
    }

    internal void EndObservation(Observation scope)
    {
        if (!ReferenceEquals(observation, scope)) return;
        observation = null;
        if (observedMin is null)
            throw new InvalidOperationException($"{Label}: the calibration data never reached this quantizer.");
        using var tensors = NewDisposeScope();
        var (lo, hi) = (tensor(new[] { observedMin.Value }), tensor(new[] { observedMax!.Value }));
        var (d, z) = Spec.Range switch
        {
            RangeMethod.MinMax => RangeEstimation.ScaleAndZeroPoint(lo, hi, Spec),
            RangeMethod.Percentile => RangeEstimation.Estimate(reservoir!, Spec),
            // The search keeps the exact extremes as its widest candidate and measures the error on the sample.
            _ => RangeEstimation.Estimate(cat(new[] { reservoir!, lo, hi }, 0), Spec),
        };
        SetRange(d, z);
        reservoir?.Dispose();
        reservoir = null;
    }

    private void register_parameter_or_replace(string name, TorchSharp.Modules.Parameter p)
    {
        if (named_parameters(recurse: false).Any(n => n.name == name)) ConditionallyRegisterParameter(name, p);
        else register_parameter(name, p);
    }

    private InvalidOperationException NotCalibrated() =>
        new($"{Label}: quantizer used before calibration (open an Observation, or calibrate it from its weight).");
}
