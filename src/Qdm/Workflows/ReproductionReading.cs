using static Qdm.Workflows.ReproductionReport;

namespace Qdm.Workflows;

/// <summary>
/// The report's reading: plain statements computed from the measurements, each ordering weighed against the calibration
/// seed-to-seed spread and the paired sampling noise of the gap, and what the gaps are made of.
/// </summary>
public static class ReproductionReading
{
    /// <summary>
    /// Plain statements computed from the table: orderings, and whether each gap exceeds the calibration seed-to-seed
    /// spread (where several seeds ran) and the sampling noise of the gap (paired bootstrap over the sampled seeds).
    /// </summary>
    public static IReadOnlyList<string> Sentences(IReadOnlyList<ReproductionRow> rows, IReadOnlyDictionary<string, RowResults> results,
        IReadOnlyList<(string Network, string Pooled, string Spatial)> networks)
    {
        var sentences = new List<string>();
        foreach (var (network, pooled, _) in networks.Take(1))
        {
            MetricsRecord? Record(ReproductionRow r) => results.GetValueOrDefault(r.Key)?.Metrics.FirstOrDefault(m => m.Network == network);
            List<ReproductionRow> Rows(ReproductionSection section, string method, string bits) =>
                rows.Where(r => r.Section == section && r.Method == method && r.Bits == bits && r.NotApplicable is null).ToList();
            var fp = Rows(ReproductionSection.SeedTable, "fp", "FP32");
            bool haveReference = fp.Any(r => Record(r)?.Fd is { } v && double.IsFinite(v));
            string metric = haveReference ? pooled : $"{pooled} vs the FP samples";
            double? Value(ReproductionRow r) => (haveReference ? Record(r)?.Fd : Record(r)?.FdVsFp) is { } v && double.IsFinite(v) ? v : null;
            List<ReproductionRow> Measured(List<ReproductionRow> set) => set.Where(r => Value(r) is not null).ToList();
            double[] Values(List<ReproductionRow> set) => Measured(set).Select(r => Value(r)!.Value).ToArray();
            string SeedCount(List<ReproductionRow> set) => Measured(set).Count < set.Count ? $" ({Measured(set).Count} of {set.Count} calibration seeds sampled so far)" : "";

            double SamplingNoise(List<ReproductionRow> a, List<ReproductionRow> b) => !haveReference || Measured(a).Count == 0 || Measured(b).Count == 0 ? double.NaN
                : SeedAveragedGap(Measured(a).Select(r => Record(r)!).ToList(), Measured(b).Select(r => Record(r)!).ToList()).SamplingNoise;
            string Noise(double gap, double noise) => double.IsNaN(noise) ? ""
                : $"; sampling noise of this gap ±{Format(noise, "F2")} (paired bootstrap over the sampled seeds): " +
                  (Math.Abs(gap) > 2 * noise ? "larger than twice it" : "within twice it, not resolved");
            // Does the calibration seed matter beyond sampling noise? Its extreme seeds were sampled from the same x_T.
            string SeedSpread(List<ReproductionRow> seeds)
            {
                var byValue = seeds.OrderBy(r => Value(r)!.Value).ToList();
                var (low, high) = (byValue[0], byValue[^1]);
                return $"{metric} {string.Join(", ", seeds.Select(r => $"{Format(Value(r)!.Value, "F2")} (seed {r.CalibrationSeed})"))}, " +
                       $"std {Format(Metrics.SampleStatistics.Std(Values(seeds)), "F2")}; the largest seed-to-seed difference (seed {high.CalibrationSeed} − seed {low.CalibrationSeed}) " +
                       $"is {Step(new() { low }, new() { high })}";
            }
            string Step(List<ReproductionRow> from, List<ReproductionRow> to)
            {
                double gap = Values(to).Average() - Values(from).Average();
                return $"{Format(gap, "+0.00;-0.00")}{Noise(gap, SamplingNoise(to, from))}";
            }

            foreach (var bits in new[] { "W8A8", "W4A8" })
            {
                var p = Rows(ReproductionSection.SeedTable, "ptq4dm", bits);
                var d = Rows(ReproductionSection.SeedTable, "di2n", bits);
                // Each method's gap to FP as soon as it has samples: a partial run already says something.
                var toFp = new[] { ("DI2N", d), ("PTQ4DM", p) }.Where(m => haveReference && Values(m.Item2).Length > 0)
                    .Select(m => $"{m.Item1} is {Step(fp, m.Item2)}{SeedCount(m.Item2)}").ToList();
                if (toFp.Count > 0)
                    sentences.Add($"{bits}, gap to FP ({Format(Values(fp)[0], "F2")}): {string.Join("; ", toFp)}.");
                foreach (var (name, sampled) in new[] { ("PTQ4DM", p), ("DI2N", d) }.Where(m => Measured(m.Item2).Count > 1))
                    sentences.Add($"{bits}, {name} over calibration seeds: {SeedSpread(Measured(sampled))}.");
                if (Values(p).Length == 0 || Values(d).Length == 0) continue;
                double gap = Values(d).Average() - Values(p).Average();
                var spreads = new[] { ("PTQ4DM", Metrics.SampleStatistics.Std(Values(p))), ("DI2N", Metrics.SampleStatistics.Std(Values(d))) };
                var measuredSpreads = spreads.Where(m => double.IsFinite(m.Item2)).ToList();
                double spread = measuredSpreads.Select(m => m.Item2).DefaultIfEmpty(double.NaN).Max();
                // Name whose spread it is: with one method's seeds sampled so far, the other's spread is still unknown.
                string spreadName = measuredSpreads.Count == 2 ? $"the calibration seed-to-seed spread {Format(spread, "F2")} (the larger of the two methods')"
                    : measuredSpreads.Count == 1 ? $"{measuredSpreads[0].Item1}'s calibration seed-to-seed spread {Format(spread, "F2")} (the other method has one seed so far)" : "";
                var verdict = gap <= 0 ? "DI2N is at least as good as PTQ4DM" : "DI2N is worse than PTQ4DM";
                var seeds = double.IsNaN(spread) ? "one calibration seed: no seed-to-seed spread measured"
                    : Math.Abs(gap) > 2 * spread ? $"larger than twice {spreadName}"
                    : $"within twice {spreadName}: not a resolved difference";
                var counts = Measured(p).Count == Measured(d).Count ? SeedCount(p)
                    : $" (calibration seeds sampled so far: PTQ4DM {Measured(p).Count} of {p.Count}, DI2N {Measured(d).Count} of {d.Count})";
                sentences.Add($"{bits}, {metric}: DI2N {Format(Values(d).Average(), "F2")} vs PTQ4DM {Format(Values(p).Average(), "F2")} → {verdict} by " +
                    $"{Format(Math.Abs(gap), "F2")} ({seeds}{Noise(gap, SamplingNoise(d, p))}){counts}.");
                // What the gap is made of, and closeness to FP's own images, where the records carry the figures.
                IReadOnlyList<MetricsRecord> ptq4dmSeeds = Measured(p).Select(r => Record(r)!).ToList(), di2nSeeds = Measured(d).Select(r => Record(r)!).ToList();
                if (FdParts(bits, Record(fp[0]), ptq4dmSeeds, di2nSeeds, pooled) is { } parts) sentences.Add(parts);
                if (haveReference && CastRemoved(bits, Record(fp[0]), new[] { ("PTQ4DM", ptq4dmSeeds), ("DI2N", di2nSeeds) }, pooled) is { } cast) sentences.Add(cast);
                if (CloserToFp(bits, ptq4dmSeeds, di2nSeeds, pooled) is { } closer) sentences.Add(closer);
            }

            var fpInput = Rows(ReproductionSection.BeyondTheSeed, "di2n-fp-input", "W8A8");
            var di2nSeed0 = Rows(ReproductionSection.SeedTable, "di2n", "W8A8").Take(1).ToList();
            if (Values(fpInput).Length > 0 && Values(di2nSeed0).Length > 0)
                sentences.Add($"W8A8, {metric}: DI2N with x_t unquantized {Format(Values(fpInput)[0], "F2")} vs DI2N (calibration seed 0) " +
                    $"{Format(Values(di2nSeed0)[0], "F2")}: {Step(di2nSeed0, fpInput)} (one calibration seed).");

            // Bias correction: the measured rows against the same seed without it, and against the cast-removed diagnostic.
            foreach (var (name, method) in new[] { ("PTQ4DM", "ptq4dm"), ("DI2N", "di2n") })
            {
                var corrected = Rows(ReproductionSection.BeyondTheSeed, $"{method}-bias-corrected", "W8A8");
                var plain = Rows(ReproductionSection.SeedTable, method, "W8A8").Where(r => r.CalibrationSeed == corrected.FirstOrDefault()?.CalibrationSeed).ToList();
                if (Values(corrected).Length == 0 || Values(plain).Length == 0) continue;
                string toFp = haveReference ? $"; its gap to FP {Step(fp, corrected)}" : "";
                string proxy = haveReference && Record(plain[0])?.FdCastRemoved is { } castFree
                    ? $"; the cast-removed diagnostic of the uncorrected row gave {Format(castFree, "F2")}" : "";
                sentences.Add($"W8A8, {metric}: {name} + bias correction {Format(Values(corrected)[0], "F2")} vs {name} " +
                    $"{Format(Values(plain)[0], "F2")} (calibration seed {plain[0].CalibrationSeed}): {Step(plain, corrected)}{toFp}{proxy}.");
            }

            var int8 = Rows(ReproductionSection.BeyondTheSeed, "di2n-int8-kernels", "W8A8");
            if (haveReference && Values(int8).Length > 0)
                sentences.Add($"W8A8, {metric}: {int8[0].Label} {Format(Values(int8)[0], "F2")}; its gap to FP {Step(fp, int8)} (one calibration seed).");

            var uniform = Rows(ReproductionSection.TimestepCalibration, "full-uniform", "W8A8");
            var normal = Rows(ReproductionSection.TimestepCalibration, "full-normal", "W8A8");
            if (Values(uniform).Length > 0 && Values(normal).Length > 0)
                sentences.Add($"Time-step calibration, {metric}: uniform {Format(Values(uniform)[0], "F2")} vs normal {Format(Values(normal)[0], "F2")} → " +
                    (Values(normal)[0] > Values(uniform)[0] ? "normal is worse, as the seed found" : "normal is not worse here, unlike the seed's finding") +
                    $" ({Step(uniform, normal)}; one calibration seed each).");

            var ablation = rows.Where(r => r.Section == ReproductionSection.Ablation && r.NotApplicable is null).Select(r => new List<ReproductionRow> { r }).ToList();
            var measuredSteps = ablation.TakeWhile(step => Values(step).Length > 0).ToList();
            if (measuredSteps.Count > 1)
                sentences.Add($"Ablation, {metric}: {measuredSteps[0][0].Label} {Format(Values(measuredSteps[0])[0], "F2")}" +
                    string.Concat(measuredSteps.Skip(1).Select((step, i) => $" → {step[0].Label} {Format(Values(step)[0], "F2")} ({Step(measuredSteps[i], step)})")) +
                    " (one calibration seed each).");

            if (sentences.Count == 0 && Values(fp).Length > 0)
                sentences.Add($"Only FP32 is sampled so far ({metric} {Format(Values(fp)[0], "F2")}); each quantized row is read against it once its samples are complete.");
        }
        if (sentences.Count == 0) sentences.Add("No metrics were computed yet.");
        sentences.Add("Sample counts below ~5,000 bias Fréchet distances upward (fewer samples, larger value); compare rows of one report, not with published numbers.");
        return sentences;
    }

    /// <summary>
    /// FD split into its mean and covariance terms, and each method's shift of the feature mean from FP's with its component
    /// toward the data (Metrics.FrechetDecomposition), averaged over the sampled calibration seeds.
    /// </summary>
    private static string? FdParts(string bits, MetricsRecord? fp, IReadOnlyList<MetricsRecord> ptq4dm, IReadOnlyList<MetricsRecord> di2n, string pooled)
    {
        static bool Complete(IEnumerable<MetricsRecord?> set) =>
            set.All(m => m is { Fd: not null, FdMeanTerm: not null, FeatureShiftVsFp: not null, FeatureShiftTowardData: not null });
        if (fp is null || ptq4dm.Count == 0 || di2n.Count == 0 || !Complete(ptq4dm.Append(fp).Concat(di2n))) return null;
        static string F(IEnumerable<MetricsRecord> set, Func<MetricsRecord, double> value, string format = "F2") => Format(set.Average(value), format);
        string Terms(IReadOnlyList<MetricsRecord> set) => $"{F(set, m => m.FdMeanTerm!.Value)} + {F(set, m => m.Fd!.Value - m.FdMeanTerm!.Value)}";
        string toData = Format(Math.Sqrt(fp.FdMeanTerm!.Value), "F2");
        return $"{bits}, {pooled} = mean term + covariance term: FP {Terms(new[] { fp })}, PTQ4DM {Terms(ptq4dm)}, DI2N {Terms(di2n)}. " +
               $"Quantization moves the mean feature from FP's by {F(ptq4dm, m => m.FeatureShiftVsFp!.Value)} (PTQ4DM) and " +
               $"{F(di2n, m => m.FeatureShiftVsFp!.Value)} (DI2N), of which {F(ptq4dm, m => m.FeatureShiftTowardData!.Value, "+0.00;-0.00")} and " +
               $"{F(di2n, m => m.FeatureShiftTowardData!.Value, "+0.00;-0.00")} point toward the data (FP's mean feature is {toData} from the data's): " +
               $"in the mean term a move costs its squared length minus 2 × {toData} × that component, so while FP is this far from " +
               "the data the direction of what quantization changes, not only its size, sets the gap.";
    }

    /// <summary>
    /// Each method's gap to FP before and after its set-wide colour cast vs FP is subtracted from its images (a diagnostic that
    /// needs the FP samples, not a method), with the paired sampling noise of the cast-free gap.
    /// </summary>
    private static string? CastRemoved(string bits, MetricsRecord? fp, IReadOnlyList<(string Name, IReadOnlyList<MetricsRecord> Seeds)> methods, string pooled)
    {
        if (fp?.Fd is null || methods.Any(m => m.Seeds.Count == 0 || m.Seeds.Any(r => r.Fd is null || r.FdCastRemoved is null))) return null;
        static MetricsRecord WithoutCast(MetricsRecord m) => m with { Fd = m.FdCastRemoved, BootstrapFd = m.BootstrapFdCastRemoved };
        string Part((string Name, IReadOnlyList<MetricsRecord> Seeds) m)
        {
            var (gap, _) = SeedAveragedGap(m.Seeds, new[] { fp });
            var (castFree, noise) = SeedAveragedGap(m.Seeds.Select(WithoutCast).ToList(), new[] { fp });
            var resolved = double.IsNaN(noise) ? "" : $" (sampling noise ±{Format(noise, "F2")}: " +
                (Math.Abs(castFree) > 2 * noise ? "larger than twice it)" : "within twice it, not resolved)");
            return $"{m.Name} {Format(m.Seeds.Average(r => r.FdCastRemoved!.Value), "F2")}, its gap to FP goes from {Format(gap, "+0.00;-0.00")} " +
                   $"to {Format(castFree, "+0.00;-0.00")}{resolved}";
        }
        return $"{bits}, {pooled} with each row's mean colour cast vs FP removed (every image shifted by minus its set's mean " +
               $"per-channel pixel shift vs FP: a diagnostic that needs the FP samples, not a method): {string.Join("; ", methods.Select(Part))}.";
    }

    /// <summary>
    /// Which method's images stay closer to their FP twins (same x_T): a different question from the distance to the data.
    /// Mean |pixel Δ| is averaged over the sampled calibration seeds; its standard error is bounded by the mean over seeds of
    /// std/√N (a bound whatever the correlation between seeds), and the bounds of the two methods add for their difference.
    /// </summary>
    private static string? CloserToFp(string bits, IReadOnlyList<MetricsRecord> ptq4dm, IReadOnlyList<MetricsRecord> di2n, string pooled)
    {
        static bool Complete(IReadOnlyList<MetricsRecord> set) =>
            set.Count > 0 && set.All(m => m.PixelDeltaVsFp is not null && m.PixelDeltaVsFpStd is not null && m.Samples > 0);
        if (!Complete(ptq4dm) || !Complete(di2n)) return null;
        double Delta(IReadOnlyList<MetricsRecord> set) => set.Average(m => m.PixelDeltaVsFp!.Value);
        double Bound(IReadOnlyList<MetricsRecord> set) => set.Average(m => m.PixelDeltaVsFpStd!.Value / Math.Sqrt(m.Samples));
        string FdVsFp(IReadOnlyList<MetricsRecord> set) => set.All(m => m.FdVsFp is not null) ? Format(set.Average(m => m.FdVsFp!.Value), "F2") : "—";
        double gap = Delta(di2n) - Delta(ptq4dm), bound = Bound(di2n) + Bound(ptq4dm);
        var verdict = Math.Abs(gap) > 2 * bound
            ? $"{(gap > 0 ? "PTQ4DM" : "DI2N")}'s images stay closer to their FP twins by {Format(Math.Abs(gap), "F2")} levels (more than twice the bound)"
            : $"neither method's images stay measurably closer to their FP twins (difference {Format(gap, "+0.00;-0.00")}, within twice the bound)";
        return $"{bits}, closeness to the FP model's own images (image i of every row starts from the same x_T; a different question " +
               $"from the distance to the data): mean abs. pixel Δ vs FP PTQ4DM {Format(Delta(ptq4dm), "F2")}, DI2N {Format(Delta(di2n), "F2")} " +
               $"(standard error of their difference at most ±{Format(bound, "F3")}, from the spread over images) → {verdict}; " +
               $"{pooled} vs the FP samples PTQ4DM {FdVsFp(ptq4dm)}, DI2N {FdVsFp(di2n)}.";
    }

    /// <summary>
    /// Mean FD of the sets <paramref name="a"/> (e.g. a method's calibration seeds) minus that of <paramref name="b"/>, and
    /// the sampling noise of that gap: the std over bootstrap replicates of mean(A) − mean(B), paired because replicate k
    /// resamples the same image indices in every set (NaN where a set lacks replicates or their counts differ).
    /// </summary>
    public static (double Gap, double SamplingNoise) SeedAveragedGap(IReadOnlyList<MetricsRecord> a, IReadOnlyList<MetricsRecord> b)
    {
        if (a.Count == 0 || b.Count == 0 || a.Concat(b).Any(m => m.Fd is null))
            throw new ArgumentException("both sets need at least one record with an FD to the reference.");
        double gap = a.Average(m => m.Fd!.Value) - b.Average(m => m.Fd!.Value);
        var replicates = a.Concat(b).Select(m => m.BootstrapFd).ToList();
        if (replicates.Any(r => r is null) || replicates.Select(r => r!.Count).Distinct().Count() != 1 || replicates[0]!.Count < 2) return (gap, double.NaN);
        int k = replicates[0]!.Count;
        IReadOnlyList<double> Mean(IReadOnlyList<MetricsRecord> set) => Enumerable.Range(0, k).Select(i => set.Average(m => m.BootstrapFd![i])).ToList();
        return (gap, Metrics.PairedBootstrap.GapStd(Mean(a), Mean(b)));
    }
}
