namespace Qdm.Metrics;

/// <summary>Summary statistics of a handful of repeated measurements (seeds, subsets, bootstrap replicates).</summary>
public static class SampleStatistics
{
    /// <summary>Sample standard deviation (divisor n − 1); NaN below two values, where no spread was measured.</summary>
    public static double Std(IReadOnlyCollection<double> values)
    {
        if (values.Count < 2) return double.NaN;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
