using static TorchSharp.torch;

namespace Qdm.Export;

/// <summary>Signed integers of 2–8 bits stored compactly: int8 as is; ≤ 4 bits two per byte (value + 8 in each nibble, low first).</summary>
public static class IntPacking
{
    public static Tensor Pack(Tensor integers, int bits)
    {
        var flat = integers.flatten().to(ScalarType.Int16);
        if (bits > 4) return flat.to(ScalarType.Int8);
        if (flat.numel() % 2 == 1) flat = cat(new[] { flat, zeros(1, dtype: ScalarType.Int16) });
        var pairs = (flat + 8).reshape(-1, 2);                      // 0..15 each
        return (pairs[.., 0] + pairs[.., 1] * 16).to(ScalarType.Byte);
    }

    public static Tensor Unpack(Tensor packed, int bits, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (bits > 4) return packed.to(ScalarType.Float32).reshape(shape);
        var bytes = packed.to(ScalarType.Int16);
        var low = bytes.remainder(16) - 8;
        var high = bytes.floor_divide(16) - 8;
        return stack(new[] { low, high }, 1).flatten()[..(int)count].to(ScalarType.Float32).reshape(shape);
    }
}
