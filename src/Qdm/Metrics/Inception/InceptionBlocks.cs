using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Metrics.Inception;

/// <summary>pytorch-fid `FIDInceptionA`: the pool branch averages without counting padding (the TF graph's behaviour).</summary>
public sealed class FidInceptionA : TensorPart
{
    public FidInceptionA(long inCh, long poolFeatures) : base(nameof(FidInceptionA))
    {
        Add("branch1x1", new BasicConv2d(inCh, 64, 1));
        Add("branch5x5_1", new BasicConv2d(inCh, 48, 1));
        Add("branch5x5_2", new BasicConv2d(48, 64, 5, padding: 2));
        Add("branch3x3dbl_1", new BasicConv2d(inCh, 64, 1));
        Add("branch3x3dbl_2", new BasicConv2d(64, 96, 3, padding: 1));
        Add("branch3x3dbl_3", new BasicConv2d(96, 96, 3, padding: 1));
        Add("branch_pool", new BasicConv2d(inCh, poolFeatures, 1));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var b1 = Layer("branch1x1").call(x);
        var b5 = Layer("branch5x5_2").call(Layer("branch5x5_1").call(x));
        var b3 = Layer("branch3x3dbl_3").call(Layer("branch3x3dbl_2").call(Layer("branch3x3dbl_1").call(x)));
        var pool = Layer("branch_pool").call(F.avg_pool2d(x, 3, stride: 1, padding: 1, count_include_pad: false));
        return cat(new[] { b1, b5, b3, pool }, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>torchvision `InceptionB` (grid reduction 35 → 17).</summary>
public sealed class InceptionB : TensorPart
{
    public InceptionB(long inCh) : base(nameof(InceptionB))
    {
        Add("branch3x3", new BasicConv2d(inCh, 384, 3, stride: 2));
        Add("branch3x3dbl_1", new BasicConv2d(inCh, 64, 1));
        Add("branch3x3dbl_2", new BasicConv2d(64, 96, 3, padding: 1));
        Add("branch3x3dbl_3", new BasicConv2d(96, 96, 3, stride: 2));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var b3 = Layer("branch3x3").call(x);
        var b3d = Layer("branch3x3dbl_3").call(Layer("branch3x3dbl_2").call(Layer("branch3x3dbl_1").call(x)));
        var pool = F.max_pool2d(x, 3, stride: 2);
        return cat(new[] { b3, b3d, pool }, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>pytorch-fid `FIDInceptionC` (factorised 7×7); the pool branch averages without counting padding.</summary>
public sealed class FidInceptionC : TensorPart
{
    public FidInceptionC(long inCh, long c7) : base(nameof(FidInceptionC))
    {
        Add("branch1x1", new BasicConv2d(inCh, 192, 1));
        Add("branch7x7_1", new BasicConv2d(inCh, c7, 1));
        Add("branch7x7_2", new BasicConv2d(c7, c7, (1, 7), (0, 3)));
        Add("branch7x7_3", new BasicConv2d(c7, 192, (7, 1), (3, 0)));
        Add("branch7x7dbl_1", new BasicConv2d(inCh, c7, 1));
        Add("branch7x7dbl_2", new BasicConv2d(c7, c7, (7, 1), (3, 0)));
        Add("branch7x7dbl_3", new BasicConv2d(c7, c7, (1, 7), (0, 3)));
        Add("branch7x7dbl_4", new BasicConv2d(c7, c7, (7, 1), (3, 0)));
        Add("branch7x7dbl_5", new BasicConv2d(c7, 192, (1, 7), (0, 3)));
        Add("branch_pool", new BasicConv2d(inCh, 192, 1));
    }

    public override Tensor forward(Tensor x) => ForwardWithBranch1x1(x).Output;

    /// <summary>Also returns branch1x1's output: for Mixed_6d that is TF's `mixed_6/conv`, the sFID layer.</summary>
    public (Tensor Output, Tensor Branch1x1) ForwardWithBranch1x1(Tensor x)
    {
        using var scope = NewDisposeScope();
        var b1 = Layer("branch1x1").call(x);
        var b7 = Layer("branch7x7_3").call(Layer("branch7x7_2").call(Layer("branch7x7_1").call(x)));
        var b7d = x;
        foreach (var name in new[] { "branch7x7dbl_1", "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5" })
            b7d = Layer(name).call(b7d);
        var pool = Layer("branch_pool").call(F.avg_pool2d(x, 3, stride: 1, padding: 1, count_include_pad: false));
        var output = cat(new[] { b1, b7, b7d, pool }, 1);
        return (output.MoveToOuterDisposeScope(), b1.MoveToOuterDisposeScope());
    }
}

/// <summary>torchvision `InceptionD` (grid reduction 17 → 8).</summary>
public sealed class InceptionD : TensorPart
{
    public InceptionD(long inCh) : base(nameof(InceptionD))
    {
        Add("branch3x3_1", new BasicConv2d(inCh, 192, 1));
        Add("branch3x3_2", new BasicConv2d(192, 320, 3, stride: 2));
        Add("branch7x7x3_1", new BasicConv2d(inCh, 192, 1));
        Add("branch7x7x3_2", new BasicConv2d(192, 192, (1, 7), (0, 3)));
        Add("branch7x7x3_3", new BasicConv2d(192, 192, (7, 1), (3, 0)));
        Add("branch7x7x3_4", new BasicConv2d(192, 192, 3, stride: 2));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var b3 = Layer("branch3x3_2").call(Layer("branch3x3_1").call(x));
        var b7 = x;
        foreach (var name in new[] { "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4" }) b7 = Layer(name).call(b7);
        var pool = F.max_pool2d(x, 3, stride: 2);
        return cat(new[] { b3, b7, pool }, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>pytorch-fid `FIDInceptionE_1` (average pool without padding count) and `FIDInceptionE_2` (max pool).</summary>
public sealed class FidInceptionE : TensorPart
{
    private readonly bool maxPool;

    public FidInceptionE(long inCh, bool maxPool) : base(nameof(FidInceptionE))
    {
        this.maxPool = maxPool;
        Add("branch1x1", new BasicConv2d(inCh, 320, 1));
        Add("branch3x3_1", new BasicConv2d(inCh, 384, 1));
        Add("branch3x3_2a", new BasicConv2d(384, 384, (1, 3), (0, 1)));
        Add("branch3x3_2b", new BasicConv2d(384, 384, (3, 1), (1, 0)));
        Add("branch3x3dbl_1", new BasicConv2d(inCh, 448, 1));
        Add("branch3x3dbl_2", new BasicConv2d(448, 384, 3, padding: 1));
        Add("branch3x3dbl_3a", new BasicConv2d(384, 384, (1, 3), (0, 1)));
        Add("branch3x3dbl_3b", new BasicConv2d(384, 384, (3, 1), (1, 0)));
        Add("branch_pool", new BasicConv2d(inCh, 192, 1));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var b1 = Layer("branch1x1").call(x);
        var b3 = Layer("branch3x3_1").call(x);
        b3 = cat(new[] { Layer("branch3x3_2a").call(b3), Layer("branch3x3_2b").call(b3) }, 1);
        var b3d = Layer("branch3x3dbl_2").call(Layer("branch3x3dbl_1").call(x));
        b3d = cat(new[] { Layer("branch3x3dbl_3a").call(b3d), Layer("branch3x3dbl_3b").call(b3d) }, 1);
        var pooled = maxPool
            ? F.max_pool2d(x, 3, stride: 1, padding: 1)
            : F.avg_pool2d(x, 3, stride: 1, padding: 1, count_include_pad: false);
        var pool = Layer("branch_pool").call(pooled);
        return cat(new[] { b1, b3, b3d, pool }, 1).MoveToOuterDisposeScope();
    }
}
