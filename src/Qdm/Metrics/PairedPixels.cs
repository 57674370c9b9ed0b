using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Pixel differences between two sample sets from the same seeds (image i of each from the same x_T), NHWC uint8 as
/// written by the samplers. Paired, so meaningful at any N: how far each quantized image moved from its FP twin, and
/// whether it moved in a consistent direction (a colour or brightness cast) or at random.
/// </summary>
public static class PairedPixels
{
    /// <summary>Mean |a − b| over all pixels and channels, in uint8 levels.</summary>
    public static double MeanAbsDelta(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return Difference(a, b).abs().mean().item<double>();
    }

    /// <summary>
    /// The spread of that figure over images: the std over images of each image's mean |a − b|. Divided by √N it bounds the
    /// standard error of the mean |Δ| (the images are independent draws: each starts from its own x_T).
    /// </summary>
    public static double PerImageAbsDeltaStd(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var d = Difference(a, b);
        return d.abs().reshape(d.shape[0], -1).mean(new long[] { 1 }).std().item<double>();
    }

    /// <summary>Mean signed a − b per channel (last axis), in uint8 levels: the systematic part of the difference.</summary>
    public static double[] MeanShiftPerChannel(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var d = Difference(a, b);
        return d.reshape(-1, d.shape[^1]).mean(new long[] { 0 }).data<double>().ToArray();
    }

    /// <summary>
    /// a with its mean per-channel shift against b subtracted (rounded back to uint8): a set-wide colour cast removed and
    /// everything else kept, to measure how much of a metric gap the cast alone accounts for.
    /// </summary>
    public static Tensor WithoutMeanShift(Tensor a, Tensor b)
    {
        var shift = tensor(MeanShiftPerChannel(a, b), ScalarType.Float64);
        using var scope = NewDisposeScope();
        return (a.to(ScalarType.Float64) - shift).round().clamp(0, 255).to(ScalarType.Byte).MoveToOuterDisposeScope();
    }

    private static Tensor Difference(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape))
            throw new QdmInputException($"paired sample sets must have the same shape, got [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}].");
        return a.to(ScalarType.Float64) - b.to(ScalarType.Float64);
    }
}
