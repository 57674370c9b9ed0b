using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Metrics.Inception;

/// <summary>Features the FID Inception computes for a batch: pool3 (FID), logits without the fc bias (IS), sFID's spatial features.</summary>
public sealed record InceptionFeatures(Tensor Pool3, Tensor Logits, Tensor Spatial) : IDisposable
{
    public void Dispose()
    {
        Pool3.Dispose();
        Logits.Dispose();
        Spatial.Dispose();
    }
}

/// <summary>
/// The FID Inception-v3 of pytorch-fid / torch-fidelity (the TF 2015-12-05 graph ported to PyTorch), with the state-dict
/// names of `pt_inception-2015-12-05-6726825d.pth`. Input handling as pytorch-fid: uint8 → [0,1] → bilinear resize to
/// 299 (align_corners=False) → 2x − 1.
/// </summary>
public sealed class FidInceptionV3 : TensorPart
{
    public const int Pool3Size = 2048, LogitsSize = 1008, SpatialSize = 17 * 17 * 7;

    public FidInceptionV3() : base(nameof(FidInceptionV3))
    {
        Add("Conv2d_1a_3x3", new BasicConv2d(3, 32, 3, stride: 2));
        Add("Conv2d_2a_3x3", new BasicConv2d(32, 32, 3));
        Add("Conv2d_2b_3x3", new BasicConv2d(32, 64, 3, padding: 1));
        Add("Conv2d_3b_1x1", new BasicConv2d(64, 80, 1));
        Add("Conv2d_4a_3x3", new BasicConv2d(80, 192, 3));
        Add("Mixed_5b", new FidInceptionA(192, 32));
        Add("Mixed_5c", new FidInceptionA(256, 64));
        Add("Mixed_5d", new FidInceptionA(288, 64));
        Add("Mixed_6a", new InceptionB(288));
        Add("Mixed_6b", new FidInceptionC(768, 128));
        Add("Mixed_6c", new FidInceptionC(768, 160));
        Add("Mixed_6d", new FidInceptionC(768, 160));
        Add("Mixed_6e", new FidInceptionC(768, 192));
        Add("Mixed_7a", new InceptionD(768));
        Add("Mixed_7b", new FidInceptionE(1280, maxPool: false));
        Add("Mixed_7c", new FidInceptionE(2048, maxPool: true));
        Add("fc", nn.Linear(2048, LogitsSize));
    }

    /// <summary>uint8 NHWC images (any size) → the network input: [0,1], bilinear 299×299 (half-pixel centres), 2x − 1.</summary>
    public static Tensor Preprocess(Tensor uint8Nhwc)
    {
        if (uint8Nhwc.dtype != ScalarType.Byte || uint8Nhwc.dim() != 4 || uint8Nhwc.shape[3] != 3)
            throw new ArgumentException($"Inception needs uint8 N×H×W×3 images, got {uint8Nhwc.dtype} [{string.Join(",", uint8Nhwc.shape)}].");
        using var scope = NewDisposeScope();
        var x = uint8Nhwc.permute(0, 3, 1, 2).to(ScalarType.Float32) / 255;
        x = F.interpolate(x, size: new long[] { 299, 299 }, mode: InterpolationMode.Bilinear, align_corners: false);
        return (x * 2 - 1).MoveToOuterDisposeScope();
    }

    public override Tensor forward(Tensor input) => Features(input).Pool3;

    /// <summary>Runs the network on a preprocessed batch [N, 3, 299, 299].</summary>
    public InceptionFeatures Features(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var name in new[] { "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3" }) x = Layer(name).call(x);
        x = F.max_pool2d(x, 3, stride: 2);
        x = Layer("Conv2d_4a_3x3").call(Layer("Conv2d_3b_1x1").call(x));
        x = F.max_pool2d(x, 3, stride: 2);
        foreach (var name in new[] { "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c" }) x = Layer(name).call(x);
        var (mixed6d, branch1x1) = Child<FidInceptionC>("Mixed_6d").ForwardWithBranch1x1(x);
        x = mixed6d;
        foreach (var name in new[] { "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c" }) x = Layer(name).call(x);
        var pool3 = F.adaptive_avg_pool2d(x, 1).flatten(1);                                   // [N, 2048]
        var weight = Child<nn.Module>("fc").named_parameters().First(p => p.name == "weight").parameter;
        var logits = pool3.matmul(weight.t());                                               // no bias: ADM / torch-fidelity IS convention
        var spatial = branch1x1[.., ..7].permute(0, 2, 3, 1).reshape(input.shape[0], -1);  // NHWC [..., :7] flattened: (h·17 + w)·7 + c
        return new InceptionFeatures(pool3.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope(), spatial.MoveToOuterDisposeScope());
    }
}
