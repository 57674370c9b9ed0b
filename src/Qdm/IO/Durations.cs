using System.Globalization;

namespace Qdm.IO;

/// <summary>Wall times as people read them in logs and reports: seconds below 2 minutes, minutes below 2 hours, then hours.</summary>
public static class Durations
{
    public static string Readable(double seconds) => string.Create(CultureInfo.InvariantCulture,
        seconds < 120 ? $"{seconds:F0} s" : seconds < 7200 ? $"{seconds / 60:F1} min" : $"{seconds / 3600:F1} h");
}
