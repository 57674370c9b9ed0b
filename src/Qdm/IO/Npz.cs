using System.IO.Compression;
using static TorchSharp.torch;

namespace Qdm.IO;

/// <summary>NumPy .npz archives: a zip of .npy members (numpy.savez / savez_compressed).</summary>
public static class Npz
{
    /// <summary>Numeric members as tensors; text members (0-d '&lt;U' arrays) are skipped here, see <see cref="ReadStrings"/>.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"npz file not found: {path}", path);
        using var zip = OpenZip(path);
        var arrays = new Dictionary<string, Tensor>();
        foreach (var entry in zip.Entries)
        {
            if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
            var name = entry.FullName[..^4];
            if (IsText(entry)) continue;
            using var stream = entry.Open();
            arrays[name] = Npy.Read(stream, $"{path}:{name}");
        }
        return arrays;
    }

    /// <summary>Reads one member, e.g. "arr_0" of an ADM-style sample batch.</summary>
    public static Tensor ReadArray(string path, string name)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"npz file not found: {path}", path);
        using var zip = OpenZip(path);
        var entry = zip.GetEntry(name + ".npy")
            ?? throw new InvalidDataException($"{path} has no array '{name}' (it has: {string.Join(", ", zip.Entries.Select(e => e.FullName))}).");
        using var stream = entry.Open();
        return Npy.Read(stream, $"{path}:{name}");
    }

    public static Dictionary<string, string> ReadStrings(string path)
    {
        using var zip = OpenZip(path);
        var strings = new Dictionary<string, string>();
        foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal) && IsText(e)))
        {
            using var stream = entry.Open();
            strings[entry.FullName[..^4]] = Npy.ReadString(stream, $"{path}:{entry.FullName}");
        }
        return strings;
    }

    /// <summary>
    /// Writes the members uncompressed, as numpy.savez does, or deflated, as numpy.savez_compressed does (about 30 %
    /// smaller for sample images, which matters where finished sample sets are kept under version control), through a
    /// temporary file renamed into place.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> arrays, IReadOnlyDictionary<string, string>? strings = null, bool compress = false)
    {
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, tensor) in arrays)
            {
                var entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using var member = entry.Open();
                Npy.Write(member, tensor);
            }
            foreach (var (name, text) in strings ?? new Dictionary<string, string>())
            {
                using var member = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression).Open();
                Npy.WriteString(member, text);
            }
        });
    }

    private static bool IsText(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        var head = new byte[64];
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return System.Text.Encoding.Latin1.GetString(head, 0, n).Contains("'descr': '<U", StringComparison.Ordinal);
    }

    private static ZipArchive OpenZip(string path)
    {
        try { return ZipFile.OpenRead(path); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path} is not a valid .npz (zip) file: {e.Message}"); }
    }
}
