using System.CommandLine;
using Qdm.Cli;
using Qdm.Models.Ddpm;
using Qdm.Placement;
using Qdm.Quant;
using Qdm.Reconstruction;

namespace Qdm.Tests.Cli;

public class PlacementOptionsTests
{
    private static PlacementConfig Over(PlacementConfig method, string arguments)
    {
        var options = new PlacementOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var parsed = command.Parse(arguments);
        Assert.Empty(parsed.Errors);
        return options.Over(method, parsed);
    }

    [Fact]
    public void Without_placement_options_a_method_keeps_its_own_placement()
    {
        foreach (var method in Enum.GetValues<QuantMethod>())
        {
            var preset = MethodPresets.For(method, DdpmUNetConfig.Cifar10).Placement;
            Assert.Equal(preset, Over(preset, ""));
        }
    }

    [Fact]
    public void Every_placement_option_given_explicitly_overrides_the_method()
    {
        // One case per option: a command line and the field it must change (qdm quantize once dropped --integer-kernels).
        var cases = new (string Option, string Arguments, Func<PlacementConfig, bool> Changed)[]
        {
            ("--placement", "--placement ptq4dm", c => c.Kind == PlacementKind.Ptq4dm),
            ("--w-bits", "--w-bits 4", c => c.WeightBits == 4),
            ("--a-bits", "--a-bits 6", c => c.ActivationBits == 6),
            ("--attn-bits", "--attn-bits 16", c => c.AttentionBits == 16),
            ("--attn-grid", "--attn-grid logsqrt2", c => c.AttentionGrid == QuantGrid.LogSqrt2),
            ("--attn-renorm", "--attn-renorm", c => c.AttentionRowNormalized),
            ("--split-temb", "--split-temb", c => c.SplitTimeEmbedding),
            ("--no-split-skip", "--no-split-skip", c => !c.SplitSkip),
            ("--edge", "--edge same", c => c.EdgeLayers == EdgeLayers.Same),
            ("--integer-kernels", "--integer-kernels", c => c.IntegerKernels),
            ("--exclude", "--exclude ^conv_in$", c => c.Exclude.SequenceEqual(new[] { "^conv_in$" })),
        };
        Assert.Equal(new PlacementOptions().All.Select(o => o.Name).Order(), cases.Select(c => c.Option).Order());

        var method = MethodPresets.For(QuantMethod.QDiffusion, DdpmUNetConfig.Cifar10).Placement;   // full placement, no split time embedding
        foreach (var (option, arguments, changed) in cases)
        {
            Assert.False(changed(method), $"{option}: the method already has the value the test gives");
            var config = Over(method, arguments);
            Assert.True(changed(config), $"{option} did not reach the placement");
            Assert.Equal(method.Activations, config.Activations);   // specs without options stay the method's
        }
    }
}
