using Qdm.Quant;
using static TorchSharp.torch;

namespace Qdm.Tests.Quant;

public class BiasCorrectionTests
{
    private static readonly QuantizerSpec Weights3Bit = new() { Bits = 3, Symmetric = true, PerChannel = true };

    [Fact]
    public void A_linear_layers_bias_moves_by_the_rounding_error_times_the_input_mean()
    {
        manual_seed(1);
        var linear = nn.Linear(16, 3);
        var fpWeight = linear.weight!.detach().clone();
        var fpBias = linear.bias!.detach().clone();
        var layer = new QuantLayer("fc", linear, Weights3Bit, inputSpec: null, outputSpec: null);
        var batches = Enumerable.Range(0, 3).Select(_ => randn(8, 16) * 0.5 + 1.0).ToList();   // inputs with a non-zero mean, like SiLU outputs

        layer.MeasuringWeightBias = true;
        using (no_grad()) foreach (var x in batches) layer.call(x).Dispose();
        layer.MeasuringWeightBias = false;
        Assert.True(layer.CorrectBias());

        // Independent reference: E[(W_q − W) x] = (W_q − W) E[x] for a linear layer.
        var meanX = cat(batches.ToArray(), 0).mean(new long[] { 0 });
        var expected = fpBias - matmul(layer.QuantizedWeight() - fpWeight, meanX);
        Assert.True(allclose(linear.bias!.detach(), expected, rtol: 1e-5, atol: 1e-6), string.Join(", ", linear.bias!.detach().data<float>().ToArray()) + " vs " + string.Join(", ", expected.data<float>().ToArray()));
        // So the quantized layer's mean output over that data now equals the FP layer's.
        using var _ = no_grad();
        var all = cat(batches.ToArray(), 0);
        var fpMean = nn.functional.linear(all, fpWeight, fpBias).mean(new long[] { 0 });
        Assert.True(allclose(layer.call(all).mean(new long[] { 0 }), fpMean, atol: 1e-5));
    }

    [Fact]
    public void A_conv_layer_is_corrected_per_output_channel_and_nothing_happens_without_measurements()
    {
        manual_seed(2);
        var conv = nn.Conv2d(4, 2, 3, padding: 1);
        var layer = new QuantLayer("conv", conv, Weights3Bit, inputSpec: null, outputSpec: null);
        var before = conv.bias!.detach().clone();
        Assert.False(layer.CorrectBias());   // nothing measured yet
        Assert.True(conv.bias!.detach().allclose(before, rtol: 0, atol: 0));

        var fpWeight = conv.weight!.detach().clone();
        var x = rand(6, 4, 5, 5) + 0.5;
        layer.MeasuringWeightBias = true;
        using (no_grad()) layer.call(x).Dispose();
        layer.MeasuringWeightBias = false;
        Assert.True(layer.CorrectBias());
        using var _ = no_grad();
        var fpMean = nn.functional.conv2d(x, fpWeight, before, padding: new long[] { 1, 1 }).mean(new long[] { 0, 2, 3 });
        Assert.True(allclose(layer.call(x).mean(new long[] { 0, 2, 3 }), fpMean, atol: 1e-5));
    }
}
