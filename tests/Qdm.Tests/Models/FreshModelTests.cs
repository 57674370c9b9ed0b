using Qdm.Metrics.Inception;
using Qdm.Models;
using TorchSharp.Modules;

namespace Qdm.Tests.Models;

/// <summary>Unloaded models start from PyTorch's initial values (TorchSharp 0.107 leaves norm parameters uninitialised).</summary>
public class FreshModelTests
{
    [Fact]
    public void Normalisation_layers_start_at_identity()
    {
        foreach (var model in new TorchSharp.torch.nn.Module[]
                 { ModelFactory.Create(CheckpointLoadingTests.TinyDdpm), ModelFactory.Create(CheckpointLoadingTests.TinyIddpm), new FidInceptionV3() })
        {
            foreach (var norm in model.modules().OfType<GroupNorm>())
            {
                Assert.True(norm.weight!.eq(1).all().item<bool>());
                Assert.True(norm.bias!.eq(0).all().item<bool>());
            }
            foreach (var bn in model.modules().OfType<BatchNorm2d>())
            {
                Assert.True(bn.weight!.eq(1).all().item<bool>() && bn.running_var!.eq(1).all().item<bool>());
                Assert.True(bn.bias!.eq(0).all().item<bool>() && bn.running_mean!.eq(0).all().item<bool>());
            }
        }
    }
}
