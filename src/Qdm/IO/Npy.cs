using System.Text;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Qdm.IO;

/// <summary>NumPy .npy format (versions 1–3), C order, little-endian.</summary>
public static partial class Npy
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    public static Tensor Read(Stream stream, string name = "array")
    {
        var (descr, dims) = ReadHeader(stream, name);
        if (descr.Contains('U'))
            throw new InvalidDataException($"{name} holds text ('{descr}'), not numbers.");
        var type = ElementTypes.FromNumpy(descr);
        long bytes = dims.Aggregate(1L, (a, b) => a * b) * ElementTypes.SizeOf(type);
        return TensorBytes.FromBytes(ReadExactly(stream, checked((int)bytes), name), type, dims);
    }

    /// <summary>Reads a 0-d NumPy unicode array ('&lt;U…', UTF-32LE), as np.savez writes a Python str.</summary>
    public static string ReadString(Stream stream, string name = "array")
    {
        var (descr, dims) = ReadHeader(stream, name);
        if (!descr.StartsWith("<U", StringComparison.Ordinal) || dims.Length != 0)
            throw new InvalidDataException($"{name} is not a single string ('{descr}', {dims.Length}-d).");
        int chars = int.Parse(descr[2..]);
        return Encoding.UTF32.GetString(ReadExactly(stream, 4 * chars, name)).TrimEnd('\0');
    }

    public static void WriteString(Stream stream, string value)
    {
        int chars = Math.Max(1, value.Length);
        WriteHeader(stream, $"<U{chars}", "()");
        stream.Write(Encoding.UTF32.GetBytes(value.PadRight(chars, '\0')));
    }

    private static (string Descr, long[] Shape) ReadHeader(Stream stream, string name)
    {
        var magic = ReadExactly(stream, 8, name);
        if (!magic.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{name}: not a .npy array (bad magic).");
        int major = magic[6];
        int headerLength = major == 1
            ? BitConverter.ToUInt16(ReadExactly(stream, 2, name))
            : (int)BitConverter.ToUInt32(ReadExactly(stream, 4, name));
        var header = Encoding.Latin1.GetString(ReadExactly(stream, headerLength, name));

        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shape = ShapePattern().Match(header);
        if (!descr.Success || !shape.Success)
            throw new InvalidDataException($"{name}: unreadable .npy header: {header.Trim()}");
        if (fortran.Success && fortran.Groups[1].Value == "True")
            throw new NotSupportedException($"{name}: Fortran-order arrays are not supported; save with C order.");

        long[] dims = shape.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(long.Parse).ToArray();
        return (descr.Groups[1].Value, dims);
    }

    public static void Write(Stream stream, Tensor tensor)
    {
        string shape = tensor.shape.Length switch
        {
            0 => "()",
            1 => $"({tensor.shape[0]},)",
            _ => "(" + string.Join(", ", tensor.shape) + ")",
        };
        WriteHeader(stream, ElementTypes.ToNumpy(tensor.dtype), shape);
        stream.Write(TensorBytes.ToBytes(tensor));
    }

    private static void WriteHeader(Stream stream, string descr, string shape)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // Pad so that magic + length + header is a multiple of 64, header ends with '\n' (format spec).
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        var header = dict + new string(' ', padded - total) + "\n";
        stream.Write(Magic);
        stream.WriteByte(1);
        stream.WriteByte(0);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.Latin1.GetBytes(header));
    }

    private static byte[] ReadExactly(Stream stream, int count, string name)
    {
        var buffer = new byte[count];
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{name}: file is truncated."); }
        return buffer;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrPattern();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
