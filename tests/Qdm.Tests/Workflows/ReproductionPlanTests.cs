using Qdm.Calibration;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Placement;
using Qdm.Workflows;

namespace Qdm.Tests.Workflows;

public class ReproductionPlanTests
{
    private static readonly ReproductionScale Scale = new() { Seeds = 3, CalibrationSamples = 64, Iterations = 7, Steps = 10 };

    [Fact]
    public void The_seed_table_has_FP_both_methods_over_every_seed_at_W8A8_and_both_at_W4A8()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale).Where(r => r.Section == ReproductionSection.SeedTable).ToList();
        Assert.Single(rows, r => r.IsFullPrecision);
        foreach (var method in new[] { "ptq4dm", "di2n" })
        {
            Assert.Equal(new long?[] { 0, 1, 2 }, rows.Where(r => r.Method == method && r.Bits == "W8A8").Select(r => r.CalibrationSeed));
            Assert.Single(rows, r => r.Method == method && r.Bits == "W4A8");
        }
        var ptq4dm = rows.First(r => r.Method == "ptq4dm").Job!;
        var di2n = rows.First(r => r.Method == "di2n").Job!;
        Assert.Equal(PlacementKind.Ptq4dm, ptq4dm.Placement.Kind);
        Assert.Equal(CalibrationScheme.Normal, ptq4dm.Calibration.Scheme);
        Assert.Equal(PlacementKind.Full, di2n.Placement.Kind);
        Assert.Equal(CalibrationScheme.Di2n, di2n.Calibration.Scheme);
        // The seed's methods have no bias correction, and its absence leaves the fingerprint of finished runs unchanged.
        Assert.False(ptq4dm.BiasCorrection || di2n.BiasCorrection);
        Assert.DoesNotContain("bias", di2n.Describe());
        Assert.Equal(di2n.Describe() + "; bias correction", (di2n with { BiasCorrection = true }).Describe());
    }

    [Fact]
    public void Every_quantized_row_uses_the_same_scale_and_reconstruction_so_only_the_named_part_differs()
    {
        var jobs = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale).Where(r => r.Job is not null).Select(r => r.Job!).ToList();
        Assert.All(jobs, j => Assert.Equal(64, j.Calibration.Samples));
        Assert.All(jobs, j => Assert.Equal(10, j.Calibration.SamplingSteps));
        Assert.Single(jobs.Select(j => j.Reconstruction with { Seed = 0 }).Distinct());
        Assert.All(jobs, j => Assert.Equal(7, j.Reconstruction.Iterations));
        Assert.All(jobs, j => Assert.Equal(j.Seed, j.Reconstruction.Seed));
    }

    [Fact]
    public void The_calibration_finding_compares_uniform_and_normal_time_steps_under_one_placement()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale).Where(r => r.Section == ReproductionSection.TimestepCalibration).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(new[] { CalibrationScheme.Uniform, CalibrationScheme.Normal }, rows.Select(r => r.Job!.Calibration.Scheme));
        Assert.Equal(rows[0].Job!.Placement, rows[1].Job!.Placement);
        Assert.Equal(PlacementKind.Full, rows[0].Job!.Placement.Kind);
    }

    [Fact]
    public void On_the_DDPM_architecture_the_split_time_embedding_step_is_marked_not_applicable_and_nothing_runs_twice()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var ablation = rows.Where(r => r.Section == ReproductionSection.Ablation).ToList();
        Assert.Equal(4, ablation.Count);
        Assert.Contains("not applicable", ablation[3].NotApplicable);
        Assert.Null(ablation[3].Job);
        Assert.All(rows.Where(r => r.Job is not null), r => Assert.False(r.Job!.Placement.SplitTimeEmbedding));

        // The ablation's PTQ4DM and "+ order" rows are the seed table's PTQ4DM and DI2N seed-0 computations.
        var keys = ReproductionPlan.Computations(rows).Select(r => r.Key).ToList();
        Assert.Equal(keys.Distinct().Count(), keys.Count);
        Assert.Equal(1 + 3 + 3 + 2 + 2 + 1 + 1 + 4, keys.Count);
        Assert.Contains(ablation[0].Key, keys);
        Assert.Equal(rows.First(r => r.Method == "di2n").Key, ablation[2].Key);
    }

    [Fact]
    public void A_long_run_samples_FP_then_both_methods_seed_by_seed_then_the_other_rows()
    {
        var computations = ReproductionPlan.Computations(ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale));
        var order = ReproductionPlan.SamplingOrder(computations).Select(r => r.Key).ToList();
        Assert.Equal(new[] { "fp", "ptq4dm-w8a8-s0", "di2n-w8a8-s0", "ptq4dm-w8a8-s1", "di2n-w8a8-s1", "ptq4dm-w8a8-s2", "di2n-w8a8-s2",
            "ptq4dm-w4a8-s0", "di2n-w4a8-s0", "full-uniform-w8a8-s0", "full-normal-w8a8-s0", "ablation-calib-w8a8-s0", "di2n-fp-input-w8a8-s0",
            "ptq4dm-bias-corrected-w8a8-s0", "di2n-bias-corrected-w8a8-s0", "di2n-int8-kernels-w8a8-s0",
            "di2n-bias-corrected-softmax-rows-w8a8-s0" }, order);
        Assert.Equal(computations.Select(r => r.Key).Order(), order.Order());
    }

    [Fact]
    public void On_scale_shift_ResBlocks_the_split_time_embedding_is_its_own_ablation_step()
    {
        var rows = ReproductionPlan.For(IddpmUNetConfig.Cifar10Uncond, Scale);
        var ablation = rows.Where(r => r.Section == ReproductionSection.Ablation).ToList();
        Assert.All(ablation, r => Assert.Null(r.NotApplicable));
        Assert.False(ablation[2].Job!.Placement.SplitTimeEmbedding);
        Assert.True(ablation[3].Job!.Placement.SplitTimeEmbedding);
        Assert.True(rows.First(r => r.Method == "di2n").Job!.Placement.SplitTimeEmbedding);
        Assert.NotEqual(ablation[2].Key, ablation[3].Key);
    }

    [Fact]
    public void The_unquantized_input_row_excludes_exactly_the_layer_that_consumes_x_t_in_both_families()
    {
        // The layer roles come from the models themselves; the plan only knows the config.
        var models = new (Qdm.Models.UNetConfig Config, Qdm.Models.DiffusionUNet Model)[]
        {
            (Tests.Models.CheckpointLoadingTests.TinyDdpm, new DdpmUNet(Tests.Models.CheckpointLoadingTests.TinyDdpm)),
            (Tests.Models.CheckpointLoadingTests.TinyIddpm, new IddpmUNet(Tests.Models.CheckpointLoadingTests.TinyIddpm)),
        };
        foreach (var (config, model) in models)
            using (model)
            {
                var row = ReproductionPlan.For(config, Scale).Single(r => r.Method == "di2n-fp-input");
                var exclude = new System.Text.RegularExpressions.Regex(Assert.Single(row.Job!.Placement.Exclude));
                var excluded = model.LayerSites().Where(site => exclude.IsMatch(site.Path)).ToList();
                Assert.Equal(Qdm.Models.LayerRole.First, Assert.Single(excluded).Role);
                Assert.Contains(excluded[0].Path, row.Label);
            }
    }

    [Fact]
    public void The_bias_corrected_rows_are_the_seed_tables_seed_0_methods_with_only_bias_correction_added()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        foreach (var method in new[] { "ptq4dm", "di2n" })
        {
            var corrected = Assert.Single(rows, r => r.Method == $"{method}-bias-corrected").Job!;
            var plain = rows.First(r => r.Section == ReproductionSection.SeedTable && r.Method == method && r.Bits == "W8A8").Job!;
            Assert.True(corrected.BiasCorrection);
            Assert.Equal(plain with { BiasCorrection = true }, corrected);
        }
    }

    [Fact]
    public void The_softmax_row_is_the_bias_corrected_DI2N_row_with_only_the_softmax_grid_and_row_normalization_changed()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var softmax = Assert.Single(rows, r => r.Method == "di2n-bias-corrected-softmax-rows").Job!;
        var corrected = Assert.Single(rows, r => r.Method == "di2n-bias-corrected").Job!;
        Assert.Equal(corrected with
        {
            Placement = corrected.Placement with { AttentionGrid = Qdm.Quant.QuantGrid.LogSqrt2, AttentionRowNormalized = true },
        }, softmax);
    }

    [Fact]
    public void The_int8_kernel_row_is_DI2N_in_the_integer_kernel_form_with_x_t_and_the_softmax_FP_and_bias_correction()
    {
        var rows = ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale);
        var int8 = Assert.Single(rows, r => r.Method == "di2n-int8-kernels").Job!;
        var di2n = rows.First(r => r.Section == ReproductionSection.SeedTable && r.Method == "di2n" && r.Bits == "W8A8").Job!;
        var fpInput = Assert.Single(rows, r => r.Method == "di2n-fp-input").Job!;
        Assert.Equal(fpInput.Placement.Exclude, int8.Placement.Exclude);   // the layer that consumes x_t
        Assert.Equal(di2n with
        {
            Placement = di2n.Placement with { IntegerKernels = true, AttentionBits = 16, Exclude = int8.Placement.Exclude },
            BiasCorrection = true,
        }, int8);
    }

    [Fact]
    public void Report_cells_give_mean_and_sample_std_over_seeds_and_a_dash_for_nothing()
    {
        Assert.Equal("2.00 ± 1.00", ReproductionReport.Cell(new double?[] { 1, 2, 3 }, "F2"));
        Assert.Equal("5.0 s", ReproductionReport.Cell(new double?[] { 5, null }, "F1", " s"));
        Assert.Equal("—", ReproductionReport.Cell(new double?[] { null, double.NaN }, "F2"));
    }

    [Fact]
    public void Only_keeps_the_named_computations_in_plan_order_always_with_FP_and_names_an_unknown_key()
    {
        var computations = ReproductionPlan.Computations(ReproductionPlan.For(DdpmUNetConfig.Cifar10, Scale));
        Assert.Same(computations, ReproductionPlan.Only(computations, null));
        Assert.Same(computations, ReproductionPlan.Only(computations, Array.Empty<string>()));
        Assert.Equal(new[] { "fp", "ptq4dm-w8a8-s0", "di2n-w8a8-s0" },
            ReproductionPlan.Only(computations, new[] { "di2n-w8a8-s0", "ptq4dm-w8a8-s0" }).Select(r => r.Key));
        var error = Assert.Throws<QdmInputException>(() => ReproductionPlan.Only(computations, new[] { "di2n-w8a8-s9" })).Message;
        Assert.StartsWith("--only: no computation 'di2n-w8a8-s9' in this plan; expected some of fp, ptq4dm-w8a8-s0,", error);
    }
}
