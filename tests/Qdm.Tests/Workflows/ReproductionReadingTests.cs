using Qdm.Models.Ddpm;
using Qdm.Workflows;

namespace Qdm.Tests.Workflows;

public class ReproductionReadingTests
{
    private static readonly ReproductionScale Scale = new() { Seeds = 3, Samples = 5000 };
    private static readonly (string, string, string)[] R18 = { ("ResNet-18", "FD-R18", "sFD-R18") };

    private static MetricsRecord Metrics(double fd, params double[] bootstrap) => new()
    {
        Network = "ResNet-18", PooledMetric = "FD-R18", SpatialMetric = "sFD-R18", Samples = 5000, Fd = fd, FdVsFp = 1, BootstrapFd = bootstrap,
    };

    private static RowResults Row(MetricsRecord metrics) => new(null, null, null, new[] { metrics });

    /// <summary>The seed table's PTQ4DM W8A8 line of the report (the seed table comes first).</summary>
    private static string SeedTablePtq4dmW8Row(IReadOnlyList<ReproductionRow> rows, IReadOnlyDictionary<string, RowResults> results) =>
        ReproductionReport.Markdown(rows, results, new ReportContext
        {
            Model = "m", Scale = Scale, Engine = "e", Machine = "c", References = new Dictionary<string, string?>(), WallSeconds = 1, Figures = Array.Empty<(string, string)>(),
        }).Split('\n').First(l => l.StartsWith("| PTQ4DM | W8A8 |"));

    [Fact]
    public void A_partial_run_states_its_seed_counts_and_the_paired_sampling_noise_of_each_gap()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(9, 9, 9, 9, 9)),
            ["ptq4dm-w8a8-s0"] = Row(Metrics(10, 10, 12, 11, 13)),
            ["di2n-w8a8-s0"] = Row(Metrics(12, 11, 12, 13, 13)),
        };
        var reading = ReproductionReading.Sentences(rows, results, R18);

        // Replicate gaps DI2N − PTQ4DM: 1, 0, 2, 0 → sample std √(2.75/3) = 0.957; the gap 2 exceeds twice that.
        var w8 = Assert.Single(reading, s => s.StartsWith("W8A8, FD-R18: DI2N"));
        Assert.Contains("DI2N 12.00 vs PTQ4DM 10.00 → DI2N is worse than PTQ4DM by 2.00", w8);
        Assert.Contains("one calibration seed: no seed-to-seed spread measured", w8);
        Assert.Contains("sampling noise of this gap ±0.96", w8);
        Assert.Contains("larger than twice it", w8);
        Assert.Contains("1 of 3 calibration seeds sampled so far", w8);
        // Against FP, whose replicates are constant here, the noise is each method's own replicate spread.
        var toFp = Assert.Single(reading, s => s.StartsWith("W8A8, gap to FP (9.00): DI2N is +3.00; sampling noise of this gap ±0.96"));
        Assert.Contains("PTQ4DM is +1.00; sampling noise of this gap ±1.29", toFp);
        Assert.DoesNotContain(reading, s => s.StartsWith("Ablation"));   // its second step has no samples yet
        Assert.DoesNotContain(reading, s => s.StartsWith("W4A8"));       // neither W4A8 row has samples

        // With only one method sampled, its gap to FP is still read.
        results.Remove("di2n-w8a8-s0");
        var alone = Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8"));
        Assert.StartsWith("W8A8, gap to FP (9.00): PTQ4DM is +1.00", alone);

        var cells = SeedTablePtq4dmW8Row(rows, results);
        Assert.Contains("5000 (1 of 3 seeds so far)", cells);
    }

    [Fact]
    public void A_run_with_only_the_fp_row_sampled_says_so_and_gives_its_value()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var fpOnly = new Dictionary<string, RowResults> { ["fp"] = Row(Metrics(286.67, 286, 287)) };
        Assert.Equal("Only FP32 is sampled so far (FD-R18 286.67); each quantized row is read against it once its samples are complete.",
            ReproductionReading.Sentences(rows, fpOnly, R18)[0]);
        Assert.Equal("No metrics were computed yet.", ReproductionReading.Sentences(rows, new Dictionary<string, RowResults>(), R18)[0]);
    }

    [Fact]
    public void Two_sampled_calibration_seeds_are_read_against_the_sampling_noise_of_their_difference()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(9, 9, 9, 9, 9)),
            ["ptq4dm-w8a8-s0"] = Row(Metrics(10, 10, 12, 11, 13)),
            ["ptq4dm-w8a8-s1"] = Row(Metrics(13, 12, 13, 14, 15)),
            ["di2n-w8a8-s0"] = Row(Metrics(12, 11, 12, 13, 13)),
        };
        var reading = ReproductionReading.Sentences(rows, results, R18);

        // Seeds 10 and 13: std 3/√2; replicate differences 2, 1, 3, 2 → sample std √(2/3) = 0.816.
        var spread = Assert.Single(reading, s => s.StartsWith("W8A8, PTQ4DM over calibration seeds"));
        Assert.Equal("W8A8, PTQ4DM over calibration seeds: FD-R18 10.00 (seed 0), 13.00 (seed 1), std 2.12; the largest seed-to-seed " +
                     "difference (seed 1 − seed 0) is +3.00; sampling noise of this gap ±0.82 (paired bootstrap over the sampled seeds): larger than twice it.", spread);
        Assert.DoesNotContain(reading, s => s.StartsWith("W8A8, DI2N over calibration seeds"));   // one seed: no spread to read
        // The method comparison now averages PTQ4DM's two seeds and weighs the gap against their spread.
        var w8 = Assert.Single(reading, s => s.StartsWith("W8A8, FD-R18: DI2N"));
        Assert.StartsWith("W8A8, FD-R18: DI2N 12.00 vs PTQ4DM 11.50 → DI2N is worse than PTQ4DM by 0.50 (within twice PTQ4DM's calibration " +
                          "seed-to-seed spread 2.12 (the other method has one seed so far): not a resolved difference", w8);
        Assert.EndsWith("(calibration seeds sampled so far: PTQ4DM 2 of 3, DI2N 1 of 3).", w8);

        var cells = SeedTablePtq4dmW8Row(rows, results);
        Assert.Contains("| 11.50 ± 2.12 |", cells);                     // FD: mean ± std over the two seeds
        Assert.EndsWith("| 5000 each (2 of 3 seeds so far) |", cells);  // a count, not "5000 ± 0"
    }

    [Fact]
    public void A_seed_averaged_gap_averages_each_sets_seeds_replicate_by_replicate()
    {
        // Replicate means of A: 11, 11.5, 14; of B: 9, 10, 10 → differences 2, 1.5, 4 → sample std √(3.5/2).
        var (gap, noise) = ReproductionReading.SeedAveragedGap(new[] { Metrics(10, 10, 11, 13), Metrics(12, 12, 12, 15) }, new[] { Metrics(9, 9, 10, 10) });
        Assert.Equal(2.0, gap, 12);
        Assert.Equal(Math.Sqrt(1.75), noise, 12);

        var (unpairedGap, unpairedNoise) = ReproductionReading.SeedAveragedGap(new[] { Metrics(10) }, new[] { Metrics(9, 9, 10, 10) });
        Assert.Equal(1.0, unpairedGap, 12);
        Assert.True(double.IsNaN(unpairedNoise));   // no replicates on one side: no noise estimate, not a zero
    }

    [Fact]
    public void The_ablation_is_read_step_by_step_with_each_steps_gap()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(9, 9, 9, 9)),
            ["ptq4dm-w8a8-s0"] = Row(Metrics(10, 10, 11, 12)),
            ["ablation-calib-w8a8-s0"] = Row(Metrics(10.5, 10, 11, 12)),
            ["di2n-w8a8-s0"] = Row(Metrics(14, 13, 14, 15)),
        };
        var ablation = Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("Ablation"));
        Assert.Contains("PTQ4DM 10.00 → + DI2N calibration pipeline 10.50 (+0.50; sampling noise of this gap ±0.00", ablation);
        Assert.Contains("→ + quantization order (full placement) 14.00 (+3.50; sampling noise of this gap ±0.00", ablation);
    }

    [Fact]
    public void Closeness_to_the_fp_images_is_read_against_a_bound_on_the_standard_error_of_the_pixel_difference()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        MetricsRecord Pixels(double delta, double std, double fdVsFp) => Metrics(10) with { PixelDeltaVsFp = delta, PixelDeltaVsFpStd = std, FdVsFp = fdVsFp };
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(9)),
            ["ptq4dm-w8a8-s0"] = Row(Pixels(8, 5, 6)),
            ["ptq4dm-w8a8-s1"] = Row(Pixels(9, 10, 7)),
            ["di2n-w8a8-s0"] = Row(Pixels(11, 15, 9)),
        };
        // PTQ4DM: mean 8.5, bound (5 + 10)/2/√5000; DI2N: 11, 15/√5000; the bounds add: 22.5/√5000 = 0.318.
        var closer = Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, closeness"));
        Assert.Contains("mean abs. pixel Δ vs FP PTQ4DM 8.50, DI2N 11.00 (standard error of their difference at most ±0.318", closer);
        Assert.Contains("PTQ4DM's images stay closer to their FP twins by 2.50 levels", closer);
        Assert.EndsWith("FD-R18 vs the FP samples PTQ4DM 6.50, DI2N 9.00.", closer);

        // A difference within twice the bound is not called.
        results["di2n-w8a8-s0"] = Row(Pixels(9, 15, 9));
        var unresolved = Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, closeness"));
        Assert.Contains("neither method's images stay measurably closer to their FP twins (difference +0.50, within twice the bound)", unresolved);

        // Records written before the spread was kept say nothing rather than guess.
        results["di2n-w8a8-s0"] = Row(Metrics(10) with { PixelDeltaVsFp = 11 });
        Assert.DoesNotContain(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, closeness"));
    }

    [Fact]
    public void The_fd_is_split_into_its_mean_and_covariance_terms_with_each_methods_shift_toward_the_data()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        MetricsRecord Parts(double fd, double meanTerm, double shift, double toward) =>
            Metrics(fd) with { FdMeanTerm = meanTerm, FeatureShiftVsFp = shift, FeatureShiftTowardData = toward };
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Parts(100, 64, 0, 0)),
            ["ptq4dm-w8a8-s0"] = Row(Parts(110, 70, 1.0, -0.25)),
            ["ptq4dm-w8a8-s1"] = Row(Parts(112, 72, 1.2, -0.35)),
            ["di2n-w8a8-s0"] = Row(Parts(101, 65, 1.5, 0.05)),
        };
        var parts = Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, FD-R18 = mean term"));
        // PTQ4DM's two seeds averaged: 111 = 71 + 40; FP's distance to the data's mean feature is √64.
        Assert.StartsWith("W8A8, FD-R18 = mean term + covariance term: FP 64.00 + 36.00, PTQ4DM 71.00 + 40.00, DI2N 65.00 + 36.00. " +
                          "Quantization moves the mean feature from FP's by 1.10 (PTQ4DM) and 1.50 (DI2N), of which -0.30 and +0.05 point " +
                          "toward the data (FP's mean feature is 8.00 from the data's)", parts);

        results["di2n-w8a8-s0"] = Row(Metrics(101));   // a record from before the split was kept: no sentence
        Assert.DoesNotContain(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, FD-R18 = mean term"));
    }

    [Fact]
    public void Each_methods_gap_to_fp_is_read_again_with_its_colour_cast_removed()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        MetricsRecord CastFree(MetricsRecord m, double fd, params double[] bootstrap) => m with { FdCastRemoved = fd, BootstrapFdCastRemoved = bootstrap };
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(10, 10, 10, 10)),
            ["ptq4dm-w8a8-s0"] = Row(CastFree(Metrics(20, 20, 21, 22), 12, 12, 11, 13)),
            ["di2n-w8a8-s0"] = Row(CastFree(Metrics(11, 11, 11, 11), 5, 5, 6, 4)),
        };
        // Cast-free replicate gaps to FP: PTQ4DM 2, 1, 3 (std 1: a gap of 2 is not more than twice it); DI2N −5, −4, −6.
        var cast = Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, FD-R18 with each row's mean colour cast"));
        Assert.EndsWith("PTQ4DM 12.00, its gap to FP goes from +10.00 to +2.00 (sampling noise ±1.00: within twice it, not resolved); " +
                        "DI2N 5.00, its gap to FP goes from +1.00 to -5.00 (sampling noise ±1.00: larger than twice it).", cast);

        results["di2n-w8a8-s0"] = Row(Metrics(11, 11, 11, 11));   // not measured for one method: no sentence
        Assert.DoesNotContain(ReproductionReading.Sentences(rows, results, R18), s => s.StartsWith("W8A8, FD-R18 with each row's mean colour cast"));
    }

    [Fact]
    public void Each_bias_corrected_row_is_read_against_the_same_seed_without_it_and_against_the_cast_removed_diagnostic()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(10, 10, 10, 10)),
            ["ptq4dm-w8a8-s0"] = Row(Metrics(20, 20, 21, 22) with { FdCastRemoved = 12 }),
            ["ptq4dm-w8a8-s1"] = Row(Metrics(30, 30, 30, 30)),   // another seed: not the corrected row's twin
            ["ptq4dm-bias-corrected-w8a8-s0"] = Row(Metrics(13, 12, 14, 13)),
        };
        // Replicate steps from PTQ4DM seed 0: −8, −7, −9 (std 1); to FP: +2, +4, +3 (std 1).
        var reading = ReproductionReading.Sentences(rows, results, R18);
        Assert.Equal("W8A8, FD-R18: PTQ4DM + bias correction 13.00 vs PTQ4DM 20.00 (calibration seed 0): -7.00; sampling noise of this gap ±1.00 " +
                     "(paired bootstrap over the sampled seeds): larger than twice it; its gap to FP +3.00; sampling noise of this gap ±1.00 " +
                     "(paired bootstrap over the sampled seeds): larger than twice it; the cast-removed diagnostic of the uncorrected row gave 12.00.",
                     Assert.Single(reading, s => s.Contains("bias correction")));
        Assert.DoesNotContain(reading, s => s.Contains("DI2N + bias correction"));   // not sampled yet
    }

    [Fact]
    public void The_int8_kernel_row_is_read_as_its_gap_to_fp()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row(Metrics(10, 10, 10, 10)),
            ["di2n-int8-kernels-w8a8-s0"] = Row(Metrics(11, 12, 10, 11)),
        };
        // Replicate gaps 2, 0, 1: std 1, so a gap of 1 is not resolved.
        Assert.Equal("W8A8, FD-R18: DI2N in int8 kernels + bias correction, conv_in and softmax probabilities FP 11.00; its gap to FP +1.00; " +
                     "sampling noise of this gap ±1.00 (paired bootstrap over the sampled seeds): within twice it, not resolved (one calibration seed).",
                     Assert.Single(ReproductionReading.Sentences(rows, results, R18), s => s.Contains("int8")));
    }
}
