using Qdm.IO;

namespace Qdm.Tests.IO;

public class DurationsTests
{
    [Fact]
    public void Readable_switches_units_at_two_minutes_and_two_hours()
    {
        Assert.Equal("119 s", Durations.Readable(119));
        Assert.Equal("2.0 min", Durations.Readable(120));
        Assert.Equal("2.0 h", Durations.Readable(7200));
    }

    [Fact]
    public void Readable_drops_the_minutes_decimal_from_ten_minutes_on()
    {
        // "~114.9 min left" claimed a precision no running estimate has.
        Assert.Equal("9.9 min", Durations.Readable(594));
        Assert.Equal("10 min", Durations.Readable(600));
        Assert.Equal("115 min", Durations.Readable(6894));
    }

    [Fact]
    public void Left_extrapolates_the_average_rate_so_far()
    {
        // The quantize log's case: 1 of 8 calibration batches took 2 min, so 7 are left at 2 min each.
        Assert.Equal("~14 min left", Durations.Left(elapsedSeconds: 120, done: 32, total: 256));
        Assert.Equal("~0 s left", Durations.Left(300, 256, 256));
        Assert.Null(Durations.Left(5, 0, 256));
    }
}
