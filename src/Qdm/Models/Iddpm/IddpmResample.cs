using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Iddpm;

/// <summary>improved-diffusion `Downsample` with conv: 3×3 stride-2 conv with padding 1, named `op`.</summary>
public sealed class IddpmDownsample : TensorPart
{
    public IddpmDownsample(int channels) : base(nameof(IddpmDownsample)) =>
        Add("op", Layers.Conv(channels, channels, 3, stride: 2, padding: 1));

    public override Tensor forward(Tensor x) => Layer("op").call(x);
}

/// <summary>improved-diffusion `Upsample` with conv: nearest ×2 then 3×3 conv named `conv`.</summary>
public sealed class IddpmUpsample : TensorPart
{
    public IddpmUpsample(int channels) : base(nameof(IddpmUpsample)) =>
        Add("conv", Layers.Conv(channels, channels, 3, padding: 1));

    public override Tensor forward(Tensor x)
    {
        using var up = F.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
        return Layer("conv").call(up);
    }
}
