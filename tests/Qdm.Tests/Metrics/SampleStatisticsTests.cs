using Qdm.Metrics;

namespace Qdm.Tests.Metrics;

public class SampleStatisticsTests
{
    [Fact]
    public void Std_UsesTheNMinusOneDivisor()
    {
        // Squared deviations from the mean 5 sum to 32; 32 / 7 by hand (numpy.std(ddof=1) gives 2.13809).
        Assert.Equal(Math.Sqrt(32.0 / 7), SampleStatistics.Std(new double[] { 2, 4, 4, 4, 5, 5, 7, 9 }), 12);
    }

    [Fact]
    public void Std_IsNaNBelowTwoValues()
    {
        Assert.True(double.IsNaN(SampleStatistics.Std(new double[] { 3 })));
        Assert.True(double.IsNaN(SampleStatistics.Std(Array.Empty<double>())));
    }
}
