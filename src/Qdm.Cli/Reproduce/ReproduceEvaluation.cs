using Qdm.IO;
using Qdm.Metrics;
using Qdm.Workflows;
using Spectre.Console;
using static TorchSharp.torch;

namespace Qdm.Cli.Reproduce;

/// <summary>
/// The measuring stage of `qdm reproduce`: every finished sample set in every available feature space (ResNet-18, and
/// Inception where its weights are given) against the reference, with the paired comparisons against the FP samples
/// of the same seeds. One record per row and space is cached in eval/; a record written before a figure existed gets
/// that figure added, from the saved features where they suffice.
/// </summary>
internal sealed class ReproduceEvaluation(ReproduceSettings settings, ReproduceFolder folder)
{
    /// <summary>One feature space of the run, with what every row is compared against.</summary>
    private sealed record Space(string Tag, IFeatureNetwork Network, ReferenceStatistics? Reference, string? ReferenceName,
        long[][]? BootstrapIndices, Tensor FpImages, Lazy<ReferenceStatistics> FpStatistics);

    public Dictionary<string, List<MetricsRecord>> Measure(IReadOnlyList<ReproductionRow> computations, out Dictionary<string, string?> references)
    {
        var all = computations.ToDictionary(r => r.Key, _ => new List<MetricsRecord>());
        references = new Dictionary<string, string?>();
        var spaces = new List<(string Tag, Func<IFeatureNetwork> Open, string? Stats)>
        {
            ("r18", () => new Metrics.ResNet18.ResNet18FeatureNetwork(settings.R18Models, settings.Threads), settings.ReferenceR18),
        };
        if (settings.InceptionWeights is not null)
            spaces.Add(("inception", () => Metrics.Inception.InceptionFeatureNetwork.Load(settings.InceptionWeights), settings.ReferenceInception));
        using var fpImages = Npz.ReadArray(folder.SamplesFile("fp"), "arr_0");
        foreach (var (tag, open, statsPath) in spaces)
        {
            using var network = open();
            var reference = ReferenceFor(tag, network, statsPath, out var referenceName);
            references[network.PooledMetric == "FID" ? "FID Inception-v3" : "ResNet-18"] = referenceName;
            // One set of resampled seed indices for every row: gaps between rows are paired (image i shares x_T).
            var indices = reference is null || settings.BootstrapReplicates == 0 ? null
                : Metrics.PairedBootstrap.Indices(settings.Scale.Samples, settings.BootstrapReplicates, seed: 0);
            var space = new Space(tag, network, reference, referenceName, indices, fpImages, new(() => FpStatistics(tag, network)));
            foreach (var row in computations)
            {
                var cached = ResultFiles.Read<MetricsRecord>(RecordPath(row, tag));
                all[row.Key].Add(cached is not null && cached.Samples == settings.Scale.Samples && cached.Reference == referenceName
                    ? Backfill(row, cached, space)
                    : MeasureRow(row, space));
            }
        }
        return all;
    }

    private string RecordPath(ReproductionRow row, string tag) => folder.Under("eval", $"{row.Key}.{tag}.json");
    private string FeaturesPath(ReproductionRow row, string tag) => folder.Under("eval", $"{row.Key}.{tag}.npz");

    private MetricsRecord MeasureRow(ReproductionRow row, Space space)
    {
        var (network, reference, indices) = (space.Network, space.Reference, space.BootstrapIndices);
        var fpStats = space.FpStatistics.Value;
        var source = ImageSources.Open(folder.SamplesFile(row.Key));
        AnsiConsole.MarkupLineInterpolated($"[bold]{row.Key}[/] {network.PooledMetric} features of {source.Count} samples");
        var set = FeatureOptions.ExtractWithProgress(network, source, 50);
        var stats = set.Statistics(keepFeatures: true);
        Directory.CreateDirectory(folder.Under("eval"));
        if (row.Job is not null) stats.Save(FeaturesPath(row, space.Tag));   // the FP row's features are saved by FpStatistics
        var report = reference is null ? null : Evaluation.Evaluate(network, set, reference);
        using var images = Npz.ReadArray(folder.SamplesFile(row.Key), "arr_0");
        var record = new MetricsRecord
        {
            Network = network.Name, PooledMetric = network.PooledMetric, SpatialMetric = network.SpatialMetric,
            Samples = set.Count, Reference = space.ReferenceName, ReferenceCount = reference?.Pooled.Count ?? 0,
            Fd = report?.Fd, SpatialFd = report?.SpatialFd, KidMean = report?.Kid?.Mean, KidStd = report?.Kid?.Std,
            Precision = report?.Precision, Recall = report?.Recall,
            InceptionScore = report?.InceptionScoreAdm ?? (set.Logits is null ? null : InceptionScore.Adm(set.Logits)),
            FdVsFp = FrechetDistance.Compute(stats.Pooled, fpStats.Pooled),
            PixelDeltaVsFp = PairedPixels.MeanAbsDelta(images, space.FpImages),
            PixelDeltaVsFpStd = PairedPixels.PerImageAbsDeltaStd(images, space.FpImages),
            PixelShiftVsFp = PairedPixels.MeanShiftPerChannel(images, space.FpImages),
            BootstrapFd = indices is null ? null : Bootstrap(row.Key, set.Pooled, reference!, indices),
        };
        if (reference is not null) record = WithDecomposition(record, stats.Pooled, fpStats.Pooled, reference.Pooled);
        if (reference is not null && row.Job is not null) record = WithCastRemoved(record, row.Key, space, images);
        ResultFiles.Write(RecordPath(row, space.Tag), record);
        return record;
    }

    /// <summary>
    /// Adds what a cached record lacks: figures introduced after it was written. Each is saved as soon as it is computed,
    /// so an interrupted run keeps what it finished.
    /// </summary>
    private MetricsRecord Backfill(ReproductionRow row, MetricsRecord cached, Space space)
    {
        var (reference, indices, featuresPath) = (space.Reference, space.BootstrapIndices, FeaturesPath(row, space.Tag));
        MetricsRecord Saved(MetricsRecord record)
        {
            ResultFiles.Write(RecordPath(row, space.Tag), record);
            return record;
        }
        if (indices is not null && cached.BootstrapFd?.Count != indices.Length && File.Exists(featuresPath))
            cached = Saved(cached with { BootstrapFd = Bootstrap(row.Key, ReferenceStatistics.Load(featuresPath).Features!, reference!, indices) });
        if (cached.PixelShiftVsFp is null || cached.PixelDeltaVsFpStd is null)   // cheap: pixels only
        {
            using var images = Npz.ReadArray(folder.SamplesFile(row.Key), "arr_0");
            cached = Saved(cached with
            {
                PixelShiftVsFp = PairedPixels.MeanShiftPerChannel(images, space.FpImages),
                PixelDeltaVsFpStd = PairedPixels.PerImageAbsDeltaStd(images, space.FpImages),
            });
        }
        if (reference is not null && cached.FdMeanTerm is null && File.Exists(featuresPath))   // cheap: saved features
            cached = Saved(WithDecomposition(cached, ReferenceStatistics.Load(featuresPath).Pooled, space.FpStatistics.Value.Pooled, reference.Pooled));
        if (reference is not null && row.Job is not null && cached.FdCastRemoved is null)   // a feature pass
        {
            using var images = Npz.ReadArray(folder.SamplesFile(row.Key), "arr_0");
            cached = Saved(WithCastRemoved(cached, row.Key, space, images));
        }
        return cached;
    }

    private static MetricsRecord WithDecomposition(MetricsRecord record, GaussianStatistics set, GaussianStatistics fp, GaussianStatistics reference)
    {
        var parts = FrechetDecomposition.Of(set, fp, reference);
        return record with { FdMeanTerm = parts.MeanTerm, FeatureShiftVsFp = parts.ShiftLength, FeatureShiftTowardData = parts.ShiftTowardData };
    }

    /// <summary>The row's FD once its set-wide colour cast vs FP is subtracted from every image: a diagnostic, not a method.</summary>
    private static MetricsRecord WithCastRemoved(MetricsRecord record, string key, Space space, Tensor images)
    {
        using var withoutCast = PairedPixels.WithoutMeanShift(images, space.FpImages);
        AnsiConsole.MarkupLineInterpolated($"[bold]{key}[/] {space.Network.PooledMetric} with the mean colour cast vs FP removed");
        var set = FeatureOptions.ExtractWithProgress(space.Network, new TensorImages(withoutCast), 50);
        return record with
        {
            FdCastRemoved = FrechetDistance.Compute(set.Statistics(keepFeatures: false).Pooled, space.Reference!.Pooled),
            BootstrapFdCastRemoved = space.BootstrapIndices is null ? null
                : Bootstrap($"{key} (cast removed)", set.Pooled, space.Reference, space.BootstrapIndices),
        };
    }

    private static double[] Bootstrap(string key, Tensor features, ReferenceStatistics reference, long[][] indices)
    {
        double[] distances = null!;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"{key}: paired bootstrap"), maxValue: indices.Length);
                distances = Metrics.PairedBootstrap.Distances(features, reference.Pooled, indices, new SynchronousProgress<int>(k => task.Value = k));
            });
        return distances;
    }

    /// <summary>The FP samples' features (saved with them: every row's paired figures compare against them).</summary>
    private ReferenceStatistics FpStatistics(string tag, IFeatureNetwork network)
    {
        var path = folder.Under("eval", $"fp.{tag}.npz");
        if (File.Exists(path) && ReferenceStatistics.Load(path) is { } saved && saved.Pooled.Count == settings.Scale.Samples) return saved;
        var source = ImageSources.Open(folder.SamplesFile("fp"));
        AnsiConsole.MarkupLineInterpolated($"[bold]fp[/] {network.PooledMetric} features of {source.Count} samples (the paired figures of every row compare against them)");
        var stats = FeatureOptions.ExtractWithProgress(network, source, 50).Statistics(keepFeatures: true);
        Directory.CreateDirectory(folder.Under("eval"));
        stats.Save(path);
        return stats;
    }

    /// <summary>The reference statistics: a statistics file, or reference images measured once and cached under --out.</summary>
    private ReferenceStatistics? ReferenceFor(string tag, IFeatureNetwork network, string? statsPath, out string? name)
    {
        if (statsPath is not null)
        {
            name = $"{Path.GetFileName(statsPath)} (statistics file)";
            return ReferenceStatistics.Load(statsPath);
        }
        if (settings.ReferenceImages is null) { name = null; return null; }
        var source = ImageSources.Open(settings.ReferenceImages, settings.ReferenceLimit);
        name = source.Description;
        var cache = folder.Under($"reference.{tag}.npz");
        var fingerprint = cache + ".txt";
        if (File.Exists(cache) && File.Exists(fingerprint) && File.ReadAllText(fingerprint) == name) return ReferenceStatistics.Load(cache);
        AnsiConsole.MarkupLineInterpolated($"[bold]reference[/] {network.PooledMetric} statistics of {source.Description}");
        var parts = new FeatureParts(cache + ".parts");   // e.g. 50,000 training images: resumable across sessions
        var stats = FeatureOptions.ExtractWithProgress(network, source, 50, parts).Statistics(keepFeatures: true);
        stats.Save(cache);
        IO.AtomicFile.WriteAllText(fingerprint, name);
        parts.Delete();
        return stats;
    }
}
