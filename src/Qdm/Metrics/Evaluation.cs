namespace Qdm.Metrics;

/// <summary>Every metric of one sample set against reference statistics, labelled with its feature space.</summary>
public sealed record EvaluationReport
{
    public required string Network { get; init; }
    public required string PooledMetric { get; init; }
    public required string SpatialMetric { get; init; }
    public long Samples { get; init; }
    public long ReferenceCount { get; init; }
    public double Fd { get; init; }
    public double? SpatialFd { get; init; }
    /// <summary>Null when the feature network has no classifier (ResNet-18 here).</summary>
    public double? InceptionScoreAdm { get; init; }
    public (double Mean, double Std)? InceptionScore10Splits { get; init; }
    /// <summary>Null when the reference file holds no features.</summary>
    public (double Mean, double Std)? Kid { get; init; }
    public double? Precision { get; init; }
    public double? Recall { get; init; }
}

public static class Evaluation
{
    /// <summary>Two statistics files of one network (e.g. CIFAR-10 train vs test): FD, spatial FD, and KID / precision / recall from stored features.</summary>
    public static EvaluationReport Compare(ReferenceStatistics a, ReferenceStatistics b, string pooledMetric, string spatialMetric)
    {
        if (a.Network != b.Network)
            throw new QdmInputException($"statistics of different networks cannot be compared ('{a.Network}' vs '{b.Network}').");
        (double, double)? pr = a.Features is null || b.Features is null ? null : PrecisionRecall.Compute(b.Features, a.Features);
        return new EvaluationReport
        {
            Network = a.Network,
            PooledMetric = pooledMetric,
            SpatialMetric = spatialMetric,
            Samples = a.Pooled.Count,
            ReferenceCount = b.Pooled.Count,
            Fd = FrechetDistance.Compute(a.Pooled, b.Pooled),
            SpatialFd = a.Spatial is null || b.Spatial is null ? null : FrechetDistance.Compute(a.Spatial, b.Spatial),
            Kid = a.Features is null || b.Features is null ? null : KernelInceptionDistance.Compute(a.Features, b.Features),
            Precision = pr?.Item1,
            Recall = pr?.Item2,
        };
    }

    public static EvaluationReport Evaluate(IFeatureNetwork network, FeatureSet samples, ReferenceStatistics reference)
    {
        if (reference.Network != "unknown" && reference.Network != samples.Network)
            throw new QdmInputException($"the reference statistics were made with '{reference.Network}', the samples with '{samples.Network}'; " +
                "features of different networks cannot be compared.");
        var stats = samples.Statistics(keepFeatures: false);
        var refFeatures = reference.Features;
        (double, double)? pr = refFeatures is null ? null : PrecisionRecall.Compute(refFeatures, samples.Pooled);
        return new EvaluationReport
        {
            Network = samples.Network,
            PooledMetric = network.PooledMetric,
            SpatialMetric = network.SpatialMetric,
            Samples = samples.Count,
            ReferenceCount = reference.Pooled.Count,
            Fd = FrechetDistance.Compute(stats.Pooled, reference.Pooled),
            SpatialFd = reference.Spatial is null ? null : FrechetDistance.Compute(stats.Spatial!, reference.Spatial),
            InceptionScoreAdm = samples.Logits is null ? null : InceptionScore.Adm(samples.Logits),
            InceptionScore10Splits = samples.Logits is null || samples.Count < 20 ? null : InceptionScore.ImprovedGan(samples.Logits),
            Kid = refFeatures is null ? null : KernelInceptionDistance.Compute(samples.Pooled, refFeatures),
            Precision = pr?.Item1,
            Recall = pr?.Item2,
        };
    }
}
