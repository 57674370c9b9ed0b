using TorchSharp;

namespace Qdm.IO;

/// <summary>Maps tensor element types between TorchSharp, NumPy ("&lt;f4") and safetensors ("F32") names.</summary>
public static class ElementTypes
{
    private static readonly (torch.ScalarType Type, string Numpy, string Safetensors, int Size)[] Table =
    {
        (torch.ScalarType.Float64, "<f8", "F64", 8),
        (torch.ScalarType.Float32, "<f4", "F32", 4),
        (torch.ScalarType.Float16, "<f2", "F16", 2),
        (torch.ScalarType.BFloat16, "", "BF16", 2),
        (torch.ScalarType.Int64, "<i8", "I64", 8),
        (torch.ScalarType.Int32, "<i4", "I32", 4),
        (torch.ScalarType.Int16, "<i2", "I16", 2),
        (torch.ScalarType.Int8, "|i1", "I8", 1),
        (torch.ScalarType.Byte, "|u1", "U8", 1),
        (torch.ScalarType.Bool, "|b1", "BOOL", 1),
    };

    public static int SizeOf(torch.ScalarType type) => Find(e => e.Type == type, type.ToString()).Size;

    public static string ToNumpy(torch.ScalarType type)
    {
        var name = Find(e => e.Type == type, type.ToString()).Numpy;
        return name.Length > 0 ? name : throw new NotSupportedException($"{type} has no NumPy equivalent.");
    }

    public static torch.ScalarType FromNumpy(string descr)
    {
        // NumPy writes "<u1" or "|u1" for bytes and "<i8" or "=i8" depending on version; normalise the byte-order mark.
        if (descr.Length == 3 && descr[0] == '>')
            throw new NotSupportedException($"big-endian array '{descr}' is not supported; re-save it little-endian.");
        var key = descr.Length == 3 ? descr[1..] : descr;
        return Find(e => e.Numpy.Length == 3 && e.Numpy[1..] == key, $"NumPy dtype '{descr}'").Type;
    }

    public static string ToSafetensors(torch.ScalarType type) => Find(e => e.Type == type, type.ToString()).Safetensors;

    public static torch.ScalarType FromSafetensors(string name) =>
        Find(e => e.Safetensors == name, $"safetensors dtype '{name}'").Type;

    private static (torch.ScalarType Type, string Numpy, string Safetensors, int Size) Find(
        Func<(torch.ScalarType Type, string Numpy, string Safetensors, int Size), bool> match, string what)
    {
        foreach (var entry in Table)
            if (match(entry)) return entry;
        throw new NotSupportedException($"Unsupported element type: {what}.");
    }
}
