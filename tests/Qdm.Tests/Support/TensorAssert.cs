using static TorchSharp.torch;

namespace Qdm.Tests.Support;

public static class TensorAssert
{
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        using var diff = (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max();
        return diff.item<double>();
    }

    /// <summary>Asserts max |a − b| ≤ tolerance and returns the difference for the test output.</summary>
    public static double Close(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double d = MaxAbsDiff(expected, actual);
        Assert.True(d <= tolerance, $"{what}: max |Δ| = {d:G3} exceeds {tolerance:G3}");
        return d;
    }
}
