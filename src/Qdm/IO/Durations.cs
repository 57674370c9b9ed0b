using System.Globalization;

namespace Qdm.IO;

/// <summary>Wall times as people read them in logs and reports: seconds below 2 minutes, minutes below 2 hours
/// (a decimal only below 10 minutes, where it still means something for an estimate), then hours.</summary>
public static class Durations
{
    public static string Readable(double seconds) =>
        seconds < 120 ? Invariant(seconds, "F0", "s")
        : seconds < 600 ? Invariant(seconds / 60, "F1", "min")
        : seconds < 7200 ? Invariant(seconds / 60, "F0", "min")
        : Invariant(seconds / 3600, "F1", "h");

    /// <summary>"~X left" for the rest of a job at its average rate since it started; null before anything is done.</summary>
    public static string? Left(double elapsedSeconds, long done, long total) =>
        done > 0 ? $"~{Readable(elapsedSeconds * Math.Max(0, total - done) / done)} left" : null;

    private static string Invariant(double value, string format, string unit) => $"{value.ToString(format, CultureInfo.InvariantCulture)} {unit}";
}
