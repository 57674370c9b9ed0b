namespace Qdm.Quant;

/// <summary>
/// A calibration phase: while it is open, activation quantizers pass values through unchanged and record their ranges;
/// disposing it fixes every observed quantizer's Δ and z. The calibrator sets the current time step so that ranges can
/// be reported per step (the evidence for time-step-aware calibration).
/// </summary>
public sealed class Observation : IDisposable
{
    private readonly List<UniformQuantizer> observers = new();
    private bool closed;

    /// <summary>Time step of the batch being fed, if the caller knows it.</summary>
    public int? Timestep { get; set; }

    internal bool IsOpen => !closed;

    internal void Enlist(UniformQuantizer quantizer)
    {
        if (!observers.Contains(quantizer)) observers.Add(quantizer);
    }

    /// <summary>Opens an observation over these quantizers (typically every activation quantizer of a model).</summary>
    public static Observation Over(IEnumerable<UniformQuantizer> quantizers)
    {
        var observation = new Observation();
        foreach (var q in quantizers) q.BeginObservation(observation);
        return observation;
    }

    public void Dispose()
    {
        if (closed) return;
        closed = true;
        foreach (var q in observers) q.EndObservation(this);
    }
}

/// <summary>The range one quantizer saw on one batch, with that batch's time step.</summary>
public readonly record struct RangeSample(int? Timestep, float Min, float Max);
