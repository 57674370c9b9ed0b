using Qdm.Nn;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Metrics.Inception;

/// <summary>torchvision `BasicConv2d`: conv (no bias) → BatchNorm (eps 0.001, the TF graph's) → ReLU.</summary>
public sealed class BasicConv2d : TensorPart
{
    public BasicConv2d(long inCh, long outCh, (long H, long W) kernel, (long H, long W)? padding = null, long stride = 1)
        : base(nameof(BasicConv2d))
    {
        var pad = padding ?? (0, 0);
        Add("conv", Conv2d(inCh, outCh, kernel, stride: (stride, stride), padding: pad, bias: false));
        var bn = Add("bn", BatchNorm2d(outCh, eps: 0.001));
        using (no_grad())   // PyTorch's initial values; TorchSharp 0.107 may leave them uninitialised
        {
            bn.weight!.fill_(1);
            bn.bias!.zero_();
            bn.running_mean!.zero_();
            bn.running_var!.fill_(1);
        }
    }

    public BasicConv2d(long inCh, long outCh, long kernel, long padding = 0, long stride = 1)
        : this(inCh, outCh, (kernel, kernel), (padding, padding), stride) { }

    public override Tensor forward(Tensor x)
    {
        using var conv = Layer("conv").call(x);
        using var bn = Layer("bn").call(conv);
        return F.relu(bn);
    }
}
