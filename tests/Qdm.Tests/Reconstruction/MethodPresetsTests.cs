using Qdm.Models.Ddpm;
using Qdm.Reconstruction;
using Qdm.Tests.Models;

namespace Qdm.Tests.Reconstruction;

public class MethodPresetsTests
{
    [Fact]
    public void Int8_is_DI2N_in_integer_kernels_with_the_architectures_first_conv_and_the_softmax_FP_bias_corrected_ranges_only()
    {
        foreach (var (architecture, firstConv) in new (Qdm.Models.UNetConfig, string)[] { (DdpmUNetConfig.Cifar10, "conv_in"), (CheckpointLoadingTests.TinyIddpm, "input_blocks.0.0") })
        {
            var di2n = MethodPresets.For(QuantMethod.Di2n, architecture);
            var int8 = MethodPresets.For(QuantMethod.Int8, architecture);
            var excluded = Assert.Single(int8.Placement.Exclude);
            Assert.Matches(excluded, firstConv);
            Assert.DoesNotMatch(excluded, firstConv + "x");
            Assert.DoesNotMatch(excluded, "input_blocks.0.00");
            Assert.Equal(di2n with
            {
                Placement = di2n.Placement with { IntegerKernels = true, AttentionBits = 16, Exclude = int8.Placement.Exclude },
                Reconstruction = di2n.Reconstruction with { Iterations = 0 },
                BiasCorrection = true,
            }, int8);
            Assert.False(di2n.BiasCorrection);
        }
    }
}
