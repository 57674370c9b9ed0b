using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Placement;
using Qdm.Quant;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Qdm.Tests.Placement;

public class PlacementTests
{
    private static DiffusionUNet Randomised(UNetConfig config, int seed)
    {
        var model = ModelFactory.Create(config);
        var g = new Generator((ulong)seed);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: g) * 0.1);
        return model;
    }

    /// <summary>Counting tests need no careful ranges: min-max instead of the 100-step MSE search over 35.7M weights.</summary>
    private static readonly QuantizerSpec FastWeights = new() { Symmetric = true, PerChannel = true, Range = RangeMethod.MinMax };

    private static (Tensor X, Tensor T) Inputs(int channels = 3, int size = 16) =>
        (randn(new long[] { 2, channels, size, size }, generator: new Generator(5)), tensor(new float[] { 20, 800 }));

    private static Tensor Forward(DiffusionUNet model, (Tensor X, Tensor T) input)
    {
        using var _ = no_grad();
        return model.call(input.X, input.T);
    }

    [Theory]
    [InlineData(PlacementKind.Full, false)]
    [InlineData(PlacementKind.Full, true)]
    [InlineData(PlacementKind.Ptq4dm, false)]
    public void Disabled_quantization_reproduces_the_fp_model_bit_for_bit(PlacementKind kind, bool iddpm)
    {
        UNetConfig config = iddpm ? CheckpointLoadingTests.TinyIddpm : CheckpointLoadingTests.TinyDdpm;
        var input = Inputs();
        var expected = Forward(Randomised(config, 1), input);
        var quantized = Quantization.Quantize(Randomised(config, 1), new PlacementConfig { Kind = kind, SplitTimeEmbedding = iddpm });
        using (quantized.Observe()) Forward(quantized.Network, input);   // calibrate, then switch everything off
        quantized.SetEnabled(false);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(expected, Forward(quantized.Network, input)));
        // The state dict keeps the original names (plus quantizer parameters).
        Assert.Superset(Randomised(config, 1).state_dict().Keys.ToHashSet(), quantized.Network.state_dict().Keys.ToHashSet());
    }

    [Fact]
    public void Sixteen_bit_quantization_matches_the_fp_model()
    {
        var input = Inputs();
        var expected = Forward(Randomised(CheckpointLoadingTests.TinyIddpm, 2), input);
        var quantized = Quantization.Quantize(Randomised(CheckpointLoadingTests.TinyIddpm, 2),
            new PlacementConfig { WeightBits = 16, ActivationBits = 16, EdgeLayers = EdgeLayers.Same });
        Assert.True(TensorAssert.MaxAbsDiff(expected, Forward(quantized.Network, input)) <= 1e-6);
    }

    [Fact]
    public void Eight_bit_quantization_changes_the_output_a_little_and_four_bit_more()
    {
        var input = Inputs();
        var fp = Forward(Randomised(CheckpointLoadingTests.TinyDdpm, 3), input);
        double Error(int bits)
        {
            var q = Quantization.Quantize(Randomised(CheckpointLoadingTests.TinyDdpm, 3), new PlacementConfig { WeightBits = bits, EdgeLayers = EdgeLayers.Same });
            using (q.Observe()) Forward(q.Network, input);
            return (Forward(q.Network, input) - fp).square().mean().item<float>() / fp.square().mean().item<float>();
        }
        double e8 = Error(8), e4 = Error(4);
        Assert.InRange(e8, 1e-9, 1e-2);
        Assert.True(e4 > 3 * e8, $"W4 relative MSE {e4} should exceed W8's {e8}");
    }

    [Fact]
    public void Full_placement_on_the_cifar10_ddpm_unet_quantizes_every_layer_input_attention_matmul_and_skip_concat()
    {
        var model = new DdpmUNet(DdpmUNetConfig.Cifar10);
        var sites = model.LayerSites();
        // 89 Conv2d + 24 Linear (2 time-embedding, 22 temb_proj); 12 decoder shortcuts consume the skip concat.
        Assert.Equal(113, sites.Count);
        Assert.Equal(24, model.named_modules().Count(m => m.module is Linear));
        Assert.Equal(12, sites.Count(s => s.Role == LayerRole.SkipShortcut));

        var q = Quantization.Quantize(model, new PlacementConfig { Kind = PlacementKind.Full, Weights = FastWeights });
        foreach (var site in sites)
        {
            int expected = site.Role == LayerRole.SkipShortcut ? 2 : 1;   // split: h and skip get their own quantizers
            Assert.Equal(expected, q.Entries.Count(e => e.Path == site.Path && e.Tensor == QuantTensor.Input));
            Assert.Equal(expected, q.Entries.Count(e => e.Path == site.Path && e.Tensor == QuantTensor.Weight));
        }
        // 6 attention blocks (2 down at 16×16, 1 mid, 3 up) × {Q, K, softmax output, V}.
        Assert.Equal(24, q.Entries.Count(e => e.Tensor == QuantTensor.Slot));
        Assert.Equal(6, q.Entries.Count(e => e.Role == nameof(SlotRole.AttentionWeights)));
        Assert.Equal(113 + 12, q.Weights.Count());
        Assert.Equal(113 + 12 + 24, q.Activations.Count());
        Assert.DoesNotContain(q.Entries, e => e.Tensor == QuantTensor.Output);
    }

    [Fact]
    public void Ptq4dm_placement_quantizes_exactly_conv2d_and_linear_weights_and_outputs()
    {
        var q = Quantization.Quantize(new DdpmUNet(DdpmUNetConfig.Cifar10), new PlacementConfig { Kind = PlacementKind.Ptq4dm, Weights = FastWeights });
        Assert.Equal(113, q.Weights.Count());
        Assert.Equal(113, q.Entries.Count(e => e.Tensor == QuantTensor.Output));
        Assert.Equal(113, q.Activations.Count());   // no inputs, no attention matmuls, no split concat

        // On improved-diffusion, attention's Conv1d (qkv, proj_out) stays in full precision.
        var iddpm = new IddpmUNet(CheckpointLoadingTests.TinyIddpm);
        int conv1d = iddpm.named_modules().Count(m => m.module is Conv1d);
        int layers = iddpm.LayerSites().Count;
        var qi = Quantization.Quantize(iddpm, new PlacementConfig { Kind = PlacementKind.Ptq4dm });
        Assert.Equal(layers - conv1d, qi.Weights.Count());
        Assert.True(conv1d > 0);
    }

    [Fact]
    public void Split_time_embedding_gives_scale_and_shift_their_own_quantizers_only_in_scale_shift_blocks()
    {
        var model = new IddpmUNet(CheckpointLoadingTests.TinyIddpm);
        int resBlocks = model.named_modules().Count(m => m.module is IddpmResBlock);
        var single = Quantization.Quantize(new IddpmUNet(CheckpointLoadingTests.TinyIddpm), new PlacementConfig());
        var split = Quantization.Quantize(model, new PlacementConfig { SplitTimeEmbedding = true });
        Assert.Equal(resBlocks, single.Entries.Count(e => e.Role == nameof(SlotRole.TimeEmbeddingOutput)));
        Assert.Equal(resBlocks, split.Entries.Count(e => e.Role.EndsWith("Scale")));
        Assert.Equal(resBlocks, split.Entries.Count(e => e.Role.EndsWith("Shift")));
        // DDPM blocks add the embedding instead of scale-shift: nothing to split.
        var ddpm = Quantization.Quantize(new DdpmUNet(CheckpointLoadingTests.TinyDdpm), new PlacementConfig { SplitTimeEmbedding = true });
        Assert.DoesNotContain(ddpm.Entries, e => e.Role.StartsWith("TimeEmbeddingOutput"));
    }

    [Fact]
    public void Edge_layers_and_exclusions_are_respected()
    {
        var fp = Quantization.Quantize(new DdpmUNet(CheckpointLoadingTests.TinyDdpm),
            new PlacementConfig { WeightBits = 4, EdgeLayers = EdgeLayers.FullPrecision, Exclude = new[] { @"^temb\." } });
        Assert.DoesNotContain(fp.Entries, e => e.Path is "conv_in" or "conv_out" || e.Path.StartsWith("temb."));
        var eight = Quantization.Quantize(new DdpmUNet(CheckpointLoadingTests.TinyDdpm), new PlacementConfig { WeightBits = 4 });
        Assert.All(eight.Entries.Where(e => e.Path is "conv_in" or "conv_out"), e => Assert.Equal(8, e.Quantizer.Spec.Bits));
        Assert.All(eight.Weights.Where(e => e.Path == "down.0.block.0.conv1"), e => Assert.Equal(4, e.Quantizer.Spec.Bits));
    }

    [Fact]
    public void A_softmax_grid_goes_to_the_softmax_quantizers_only_and_needs_the_full_placement()
    {
        var q = Quantization.Quantize(new DdpmUNet(CheckpointLoadingTests.TinyDdpm),
            new PlacementConfig { AttentionGrid = QuantGrid.LogSqrt2, Weights = FastWeights, Activations = new() { Range = RangeMethod.MseSearch } });
        var softmax = q.Activations.Where(e => e.Role == nameof(SlotRole.AttentionWeights)).ToList();
        Assert.NotEmpty(softmax);
        // the log grid's top is the maximum whatever the activations' range method
        Assert.All(softmax, e => Assert.Equal((QuantGrid.LogSqrt2, RangeMethod.MinMax), (e.Quantizer.Spec.Grid, e.Quantizer.Spec.Range)));
        Assert.All(q.Entries.Except(softmax), e => Assert.Equal(QuantGrid.Uniform, e.Quantizer.Spec.Grid));
        // The report gives a log grid's lowest and top level and no step.
        softmax[0].Quantizer.SetRange(tensor(new[] { 0.5f }), tensor(new[] { 0f }));
        var row = QuantReport.Build(q).Single(r => r.Path == softmax[0].Path);
        Assert.Equal((0.5 * Math.Pow(2, -255 / 2.0), 0.5), (row.RangeLow, row.RangeHigh));
        Assert.True(double.IsNaN(row.MeanStep));
        var e = Assert.Throws<ArgumentException>(() => new PlacementConfig { Kind = PlacementKind.Ptq4dm, AttentionGrid = QuantGrid.Log2 }.Validated());
        Assert.Contains("needs the full placement", e.Message);
    }

    [Fact]
    public void Softmax_row_normalization_goes_to_the_softmax_quantizers_only_and_needs_the_full_placement()
    {
        var q = Quantization.Quantize(new DdpmUNet(CheckpointLoadingTests.TinyDdpm),
            new PlacementConfig { AttentionRowNormalized = true, Weights = FastWeights });
        var softmax = q.Activations.Where(e => e.Role == nameof(SlotRole.AttentionWeights)).ToList();
        Assert.NotEmpty(softmax);
        Assert.All(softmax, e => Assert.True(e.Quantizer.Spec.RowNormalized));
        Assert.All(q.Entries.Except(softmax), e => Assert.False(e.Quantizer.Spec.RowNormalized));
        Assert.Contains("attn-renorm", q.Config.Describe());
        Assert.DoesNotContain("attn-renorm", new PlacementConfig().Describe());   // reuse fingerprints of existing files stay valid
        var e = Assert.Throws<ArgumentException>(() => new PlacementConfig { Kind = PlacementKind.Ptq4dm, AttentionRowNormalized = true }.Validated());
        Assert.Contains("needs the full placement", e.Message);
    }
}
