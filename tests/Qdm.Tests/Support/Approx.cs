namespace Qdm.Tests.Support;

public static class Approx
{
    /// <summary>|expected − actual| ≤ relative·max(|expected|, tiny): a tolerance, not xunit's decimal rounding.</summary>
    public static void Equal(double expected, double actual, double relative)
    {
        double scale = Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(Math.Abs(expected - actual) <= relative * scale,
            $"expected {expected:R}, got {actual:R} (relative difference {Math.Abs(expected - actual) / scale:G3} > {relative:G3})");
    }
}
