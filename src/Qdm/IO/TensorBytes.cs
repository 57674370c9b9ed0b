using TorchSharp;
using static TorchSharp.torch;

namespace Qdm.IO;

/// <summary>Copies raw little-endian bytes into and out of CPU tensors.</summary>
internal static class TensorBytes
{
    public static Tensor FromBytes(ReadOnlySpan<byte> data, ScalarType type, long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        long expected = count * ElementTypes.SizeOf(type);
        if (data.Length != expected)
            throw new InvalidDataException($"tensor of shape [{string.Join(",", shape)}] {type} needs {expected} bytes, found {data.Length}.");
        var tensor = empty(shape, type);
        if (count > 0) data.CopyTo(tensor.bytes);
        return tensor;
    }

    public static byte[] ToBytes(Tensor tensor)
    {
        using var contiguous = tensor.cpu().contiguous();
        return contiguous.bytes.ToArray();
    }
}
