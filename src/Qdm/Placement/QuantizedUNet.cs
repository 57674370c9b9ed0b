using Qdm.Models;
using Qdm.Quant;

namespace Qdm.Placement;

public enum QuantTensor { Weight, Input, Output, Slot }

/// <summary>Which quantizers a switch applies to.</summary>
public enum QuantScope { All, Weights, Activations }

/// <summary>One quantizer in a quantized model: where it sits and what it quantizes.</summary>
public sealed record QuantEntry(string Path, string Role, QuantTensor Tensor, UniformQuantizer Quantizer);

/// <summary>
/// A U-Net whose layers and slots were wrapped by <see cref="Quantization.Quantize"/>. Workflow: Observe() over calibration
/// inputs (activation ranges), then sample; quantizers can be switched per kind or per path pattern.
/// </summary>
public sealed class QuantizedUNet
{
    public DiffusionUNet Network { get; }
    public PlacementConfig Config { get; }
    public IReadOnlyList<QuantEntry> Entries { get; }

    internal QuantizedUNet(DiffusionUNet network, PlacementConfig config, IReadOnlyList<QuantEntry> entries)
    {
        Network = network;
        Config = config;
        Entries = entries;
    }

    public IEnumerable<QuantEntry> Weights => Entries.Where(e => e.Tensor == QuantTensor.Weight);
    public IEnumerable<QuantEntry> Activations => Entries.Where(e => e.Tensor != QuantTensor.Weight);

    /// <summary>Opens a calibration phase over every activation quantizer (pass-through while open; ranges fixed on dispose).</summary>
    public Observation Observe() => Observation.Over(Activations.Select(e => e.Quantizer).Where(q => !q.Spec.PassThrough));

    /// <summary>Switches the quantizers in scope on or off, optionally only those whose path matches a pattern.</summary>
    public void SetEnabled(bool enabled, QuantScope scope = QuantScope.All, string? pathPattern = null)
    {
        var regex = pathPattern is null ? null : new System.Text.RegularExpressions.Regex(pathPattern);
        foreach (var e in Entries)
        {
            bool inScope = scope == QuantScope.All || (scope == QuantScope.Weights) == (e.Tensor == QuantTensor.Weight);
            if (inScope && (regex is null || regex.IsMatch(e.Path))) e.Quantizer.Enabled = enabled;
        }
    }

    /// <summary>Within the scope, the chosen quantizers pass values through; their previous states come back on dispose.</summary>
    public IDisposable Disabled(QuantScope scope = QuantScope.All, string? pathPattern = null)
    {
        var saved = Entries.ToDictionary(e => e.Quantizer, e => e.Quantizer.Enabled);
        SetEnabled(false, scope, pathPattern);
        return new Restore(() => { foreach (var (q, on) in saved) q.Enabled = on; });
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
