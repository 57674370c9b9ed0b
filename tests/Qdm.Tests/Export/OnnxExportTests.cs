using Qdm.Export;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Quant;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Export;

public class OnnxExportTests(ITestOutputHelper output)
{
    private static DiffusionUNet Randomised(UNetConfig config, int seed)
    {
        var model = ModelFactory.Create(config);
        using (no_grad()) foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: new Generator((ulong)seed)) * 0.1);
        return model;
    }

    private static (Tensor X, Tensor T) Inputs(int batch = 3) =>
        (randn(new long[] { batch, 3, 16, 16 }, generator: new Generator(6)), tensor(new float[] { 3, 400, 999 }[..batch]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fp32_export_runs_in_onnx_runtime_and_matches_torchsharp(bool iddpm)
    {
        var model = Randomised(iddpm ? CheckpointLoadingTests.TinyIddpm : CheckpointLoadingTests.TinyDdpm, 1);
        var (x, t) = Inputs();
        using var ort = new OrtUNet(UNetOnnxExporter.Export(model), threads: 2);
        using var _ = no_grad();
        var expected = model.call(x, t);
        var actual = ort.Forward(x, t);
        double d = TensorAssert.MaxAbsDiff(expected, actual);
        output.WriteLine($"{(iddpm ? "iddpm" : "ddpm")}: max |ORT − TorchSharp| = {d:G3} (output std {expected.std().item<float>():G3})");
        Assert.True(d < 1e-4, $"max difference {d}");
    }

    private static QuantizedUNet Calibrated(PlacementKind kind, bool iddpm, (Tensor X, Tensor T) input, bool integerKernels = false)
    {
        UNetConfig config = iddpm ? CheckpointLoadingTests.TinyIddpm : CheckpointLoadingTests.TinyDdpm;
        var q = Quantization.Quantize(Randomised(config, 2), new PlacementConfig { Kind = kind, SplitTimeEmbedding = iddpm, IntegerKernels = integerKernels });
        using (no_grad())
        using (q.Observe()) q.Network.call(input.X, input.T).Dispose();
        return q;
    }

    [Theory]
    [InlineData(PlacementKind.Full, false)]
    [InlineData(PlacementKind.Full, true)]
    [InlineData(PlacementKind.Ptq4dm, false)]
    public void Each_quantizer_exports_to_exactly_the_simulated_operation(PlacementKind kind, bool iddpm)
    {
        // One quantizer of every kind at a time (all weights on): no rounding flips can cascade, so ORT must match.
        var input = Inputs();
        var q = Calibrated(kind, iddpm, input);
        var samples = q.Activations.GroupBy(e => (e.Tensor, e.Role, Split: e.Path.Contains("shortcut") || e.Path.Contains("skip"))).Select(grp => grp.First()).ToList();
        foreach (var entry in samples)
        {
            q.SetEnabled(false, QuantScope.Activations);
            entry.Quantizer.Enabled = true;
            using var ort = new OrtUNet(UNetOnnxExporter.Export(q.Network), threads: 2);
            using var _ = no_grad();
            var diff = (q.Network.call(input.X, input.T) - ort.Forward(input.X, input.T)).abs();
            // A value within float noise of a rounding boundary may round the other way (one step); one such flip in a conv
            // input changes a 3×3 patch of every output channel (≈1 % of these outputs). A wrong translation changes most.
            double flipped = (diff > 1e-4).to(ScalarType.Float32).mean().item<float>();
            output.WriteLine($"{entry.Quantizer.Label} ({entry.Tensor}, {entry.Role}): max |ORT − simulated| = {diff.max().item<float>():G3}, share > 1e-4: {flipped:P2}");
            Assert.True(flipped < 0.05, $"{entry.Quantizer.Label}: {flipped:P2} of the outputs differ");
        }
        Assert.True(samples.Count >= (kind == PlacementKind.Full ? 6 : 4));
    }

    [Theory]
    [InlineData(QuantGrid.Log2, false, false)]
    [InlineData(QuantGrid.LogSqrt2, true, false)]
    [InlineData(QuantGrid.Uniform, false, true)]
    [InlineData(QuantGrid.LogSqrt2, true, true)]
    public void Softmax_grids_and_row_normalization_export_to_exactly_the_simulated_operation(QuantGrid grid, bool iddpm, bool rowNormalized)
    {
        var input = Inputs();
        UNetConfig config = iddpm ? CheckpointLoadingTests.TinyIddpm : CheckpointLoadingTests.TinyDdpm;
        // Only the softmax quantizers on, calibrated on the test input.
        QuantizedUNet SoftmaxOnly(PlacementConfig placement)
        {
            var q = Quantization.Quantize(Randomised(config, 2), placement);
            using (no_grad())
            using (q.Observe()) q.Network.call(input.X, input.T).Dispose();
            q.SetEnabled(false, QuantScope.Activations);
            foreach (var e in Softmax(q)) e.Quantizer.Enabled = true;
            return q;
        }
        var q = SoftmaxOnly(new PlacementConfig { AttentionGrid = grid, AttentionRowNormalized = rowNormalized });
        Assert.NotEmpty(Softmax(q));
        Assert.All(Softmax(q), e => Assert.Equal((grid, rowNormalized), (e.Quantizer.Spec.Grid, e.Quantizer.Spec.RowNormalized)));
        using var ort = new OrtUNet(UNetOnnxExporter.Export(q.Network), threads: 2, fuseQdq: false);
        using var _ = no_grad();
        var simulated = q.Network.call(input.X, input.T);
        // What an export that dropped the option under test would give: the grid without row normalization, or FP.
        var dropped = rowNormalized ? SoftmaxOnly(new PlacementConfig { AttentionGrid = grid }) : q;
        if (!rowNormalized) q.SetEnabled(false, QuantScope.Activations);
        var without = dropped.Network.call(input.X, input.T);
        double ortVsSim = (ort.Forward(input.X, input.T) - simulated).abs().max().item<float>();
        double effect = (simulated - without).abs().max().item<float>();
        output.WriteLine($"{grid}{(rowNormalized ? " row-normalized" : "")} {(iddpm ? "iddpm" : "ddpm")}: max |ORT − simulated| {ortVsSim:G3}, effect of the option {effect:G3}");
        Assert.True(effect > 1e-5, "the option changed nothing: the test would not see a wrong export");
        Assert.True(ortVsSim < 0.05 * effect, $"ORT differs from the simulation by {ortVsSim}");
    }

    private static List<QuantEntry> Softmax(QuantizedUNet q) => q.Activations.Where(e => e.Role == nameof(SlotRole.AttentionWeights)).ToList();

    [Theory]
    [InlineData(PlacementKind.Full, false, false, true)]
    [InlineData(PlacementKind.Full, true, false, true)]
    [InlineData(PlacementKind.Ptq4dm, false, false, true)]
    [InlineData(PlacementKind.Full, false, true, true)]
    [InlineData(PlacementKind.Full, false, false, false)]
    [InlineData(PlacementKind.Full, true, false, false)]
    [InlineData(PlacementKind.Ptq4dm, false, false, false)]
    public void Whole_w8a8_model_in_onnx_runtime_carries_the_simulations_amount_of_quantization_noise(PlacementKind kind, bool iddpm, bool integerKernels, bool fuseQdq)
    {
        // In a deep quantized network a rounding decided the other way (float summation order differs between engines)
        // moves later inputs by a whole step and flips more, so the two engines' quantization noises differ in detail.
        // "The same quantized model" then shows as: the same amount of quantization noise, and each quantizer exact alone
        // (the test above).
        var input = Inputs();
        var q = Calibrated(kind, iddpm, input, integerKernels);
        UNetConfig config = iddpm ? CheckpointLoadingTests.TinyIddpm : CheckpointLoadingTests.TinyDdpm;
        using var ort = new OrtUNet(UNetOnnxExporter.Export(q.Network), threads: 2, fuseQdq: fuseQdq);
        using var _ = no_grad();
        var simulated = q.Network.call(input.X, input.T);
        var actual = ort.Forward(input.X, input.T);
        var fp = Randomised(config, 2).call(input.X, input.T);
        double ortVsSim = (actual - simulated).abs().mean().item<float>();
        double simVsFp = (simulated - fp).abs().mean().item<float>(), ortVsFp = (actual - fp).abs().mean().item<float>();
        double step = (simulated.max() - simulated.min()).item<float>() / 255;
        double withinStep = ((actual - simulated).abs() <= step).to(ScalarType.Float32).mean().item<float>();
        output.WriteLine($"{kind} {(iddpm ? "iddpm" : "ddpm")} {(fuseQdq ? "fused" : "float Q/DQ")}: mean |ORT − sim| {ortVsSim:G3}; " +
            $"|sim − FP| {simVsFp:G3}, |ORT − FP| {ortVsFp:G3}; within one output step ({step:G3}): {withinStep:P1}");
        Assert.InRange(ortVsFp / simVsFp, 0.8, 1.2);   // the same amount of quantization noise
        Assert.True(ortVsSim <= 1.3 * simVsFp, "ORT is further from the simulation than independent rounding noise would put it");
    }

    [Fact]
    public void Integer_kernel_form_is_fused_by_onnx_runtime_into_integer_convolutions_and_gemms()
    {
        var input = Inputs();
        var q = Calibrated(PlacementKind.Full, iddpm: false, input, integerKernels: true);
        var optimized = Path.Combine(Path.GetTempPath(), $"qdm-opt-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var ort = new OrtUNet(UNetOnnxExporter.Export(q.Network), threads: 2, optimized)) ort.Forward(input.X, input.T).Dispose();
            var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph;
            var ops = graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
            output.WriteLine(string.Join(", ", ops.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
            int convs = q.Network.modules().OfType<Qdm.Quant.QuantLayer>().Count(l => l.Original is TorchSharp.Modules.Conv2d && l.SplitAt is null);
            Assert.True(ops.GetValueOrDefault("QLinearConv") >= convs, $"{ops.GetValueOrDefault("QLinearConv")} QLinearConv for {convs} unsplit convolutions");
            Assert.True(ops.GetValueOrDefault("QGemm") > 0);
        }
        finally { File.Delete(optimized); }
    }

    [Fact]
    public void Float_qdq_execution_folds_the_weights_so_convolutions_run_as_in_the_fp32_graph()
    {
        // Without fusion ORT must fold each weight's DequantizeLinear into a float constant (otherwise every forward
        // dequantizes all weights and the convolutions cannot use prepacked kernels); activations keep their Q/DQ pairs.
        var input = Inputs();
        var q = Calibrated(PlacementKind.Full, iddpm: false, input);
        var optimized = Path.Combine(Path.GetTempPath(), $"qdm-opt-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var ort = new OrtUNet(UNetOnnxExporter.Export(q.Network), threads: 2, optimized, fuseQdq: false)) ort.Forward(input.X, input.T).Dispose();
            var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimized)).Graph;
            var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
            var ops = graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
            output.WriteLine(string.Join(", ", ops.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")));
            int weightDequantizers = graph.Node.Count(n => n.OpType == "DequantizeLinear" && initializers.Contains(n.Input[0]));
            int activationQuantizers = q.Activations.Count(e => e.Quantizer.Enabled && !e.Quantizer.Spec.PassThrough);
            Assert.Equal(0, weightDequantizers);
            Assert.Equal(0, ops.GetValueOrDefault("QLinearConv"));
            Assert.True(ops.GetValueOrDefault("QuantizeLinear") >= activationQuantizers, $"{ops.GetValueOrDefault("QuantizeLinear")} QuantizeLinear for {activationQuantizers} activation quantizers");
        }
        finally { File.Delete(optimized); }
    }

    [Fact]
    public void Open_fuses_only_the_integer_kernel_form()
    {
        var input = Inputs();
        Assert.False(OrtUNet.FusesIntoIntegerKernels(Calibrated(PlacementKind.Full, iddpm: false, input).Network));
        Assert.False(OrtUNet.FusesIntoIntegerKernels(Calibrated(PlacementKind.Ptq4dm, iddpm: false, input).Network));
        Assert.True(OrtUNet.FusesIntoIntegerKernels(Calibrated(PlacementKind.Full, iddpm: false, input, integerKernels: true).Network));
    }
}
