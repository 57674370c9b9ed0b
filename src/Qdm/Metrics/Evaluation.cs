namespace Qdm.Metrics;

/// <summary>Every metric of one sample set against reference statistics, labelled with its feature space.</summary>
public sealed record EvaluationReport(string Network, long Samples, long ReferenceCount, double Fid, double? SpatialFid,
    double? InceptionScoreAdm, (double Mean, double Std)? InceptionScore10Splits);

public static class Evaluation
{
    public static EvaluationReport Evaluate(FeatureSet samples, ReferenceStatistics reference)
    {
        if (reference.Network != "unknown" && reference.Network != samples.Network)
            throw new QdmInputException($"the reference statistics were made with '{reference.Network}', the samples with '{samples.Network}'; " +
                "features of different networks cannot be compared.");
        var stats = samples.Statistics();
        double fid = FrechetDistance.Compute(stats.Pooled, reference.Pooled);
        double? sfid = reference.Spatial is null ? null : FrechetDistance.Compute(stats.Spatial!, reference.Spatial);
        double? isAdm = samples.Logits is null ? null : InceptionScore.Adm(samples.Logits);
        (double, double)? is10 = samples.Logits is null || samples.Count < 20 ? null : InceptionScore.ImprovedGan(samples.Logits);
        return new EvaluationReport(samples.Network, samples.Count, reference.Pooled.Count, fid, sfid, isAdm, is10);
    }
}
