using static TorchSharp.torch;

namespace Qdm.Quant;

/// <summary>Accumulates a quantizer's squared error and signal energy over the tensors it quantizes.</summary>
public sealed class ErrorProbe
{
    public double SquaredError { get; private set; }
    public double SquaredSignal { get; private set; }
    public long Count { get; private set; }

    public double Mse => Count == 0 ? double.NaN : SquaredError / Count;
    /// <summary>Signal-to-quantization-noise ratio in dB: 10·log10(Σx² / Σ(x − x̂)²).</summary>
    public double SqnrDb => SquaredError == 0 ? double.PositiveInfinity : 10 * Math.Log10(SquaredSignal / SquaredError);

    internal void Add(Tensor x, Tensor quantized)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var xd = x.detach().to(ScalarType.Float64);
        SquaredError += (xd - quantized.detach().to(ScalarType.Float64)).square().sum().item<double>();
        SquaredSignal += xd.square().sum().item<double>();
        Count += x.numel();
    }
}
