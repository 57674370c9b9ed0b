using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Ddpm;

/// <summary>ddim `Downsample` with conv: pad (0,1,0,1) then 3×3 stride-2 conv without padding.</summary>
public sealed class DdpmDownsample : TensorPart
{
    public DdpmDownsample(int channels) : base(nameof(DdpmDownsample)) =>
        Add("conv", Layers.Conv(channels, channels, 3, stride: 2));

    public override Tensor forward(Tensor x)
    {
        using var padded = F.pad(x, new long[] { 0, 1, 0, 1 });   // asymmetric: right and bottom only
        return Layer("conv").call(padded);
    }
}

/// <summary>ddim `Upsample` with conv: nearest ×2, then 3×3 conv.</summary>
public sealed class DdpmUpsample : TensorPart
{
    public DdpmUpsample(int channels) : base(nameof(DdpmUpsample)) =>
        Add("conv", Layers.Conv(channels, channels, 3, padding: 1));

    public override Tensor forward(Tensor x)
    {
        using var up = F.interpolate(x, scale_factor: new[] { 2.0, 2.0 }, mode: InterpolationMode.Nearest);
        return Layer("conv").call(up);
    }
}
