using System.Formats.Tar;
using System.IO.Compression;
using StbImageSharp;
using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>CIFAR-10 binary batches: records of 1 label byte + 3,072 bytes (R, G, B planes, 32×32 row-major).</summary>
public sealed class CifarBinaryImages : IImageSource
{
    private const int RecordBytes = 1 + 3 * 32 * 32;
    private readonly Tensor images;

    public CifarBinaryImages(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
            throw new QdmInputException($"{path}: {bytes.Length} bytes is not a whole number of CIFAR-10 records ({RecordBytes} bytes each).");
        long n = bytes.Length / RecordBytes;
        using var records = tensor(bytes, new long[] { n, RecordBytes }, ScalarType.Byte);
        images = records[.., 1..].reshape(n, 3, 32, 32).permute(0, 2, 3, 1).contiguous();   // planes → NHWC
        Description = $"{path} ({n} CIFAR-10 records)";
    }

    public string Description { get; }
    public long Count => images.shape[0];
    public IEnumerable<Tensor> Batches(int batchSize) => TensorImages.Slices(images, batchSize);
}

/// <summary>MNIST idx3-ubyte images (optionally .gz), grey replicated to RGB (28×28×3).</summary>
public sealed class MnistImages : IImageSource
{
    private readonly Tensor images;

    public MnistImages(string path)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        var bytes = memory.ToArray();
        int Int(int offset) => (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
        if (bytes.Length < 16 || Int(0) != 2051) throw new QdmInputException($"{path} is not an idx3-ubyte image file (magic 2051).");
        int n = Int(4), h = Int(8), w = Int(12);
        if (bytes.Length != 16 + (long)n * h * w) throw new QdmInputException($"{path}: expected {n}×{h}×{w} pixels, the file is truncated.");
        using var grey = tensor(bytes[16..], new long[] { n, h, w, 1 }, ScalarType.Byte);
        images = grey.expand(n, h, w, 3).contiguous();
        Description = $"{path} ({n} MNIST digits as RGB)";
    }

    public string Description { get; }
    public long Count => images.shape[0];
    public IEnumerable<Tensor> Batches(int batchSize) => TensorImages.Slices(images, batchSize);
}

/// <summary>
/// The JPEG versions, inside a CIFAR-10 JPEG archive (split/&lt;class&gt;/NNNN.jpg, NNNN = k-th image of its class in dataset
/// order), of the records of an exact CIFAR-10 binary file that starts at the beginning of that split.
/// </summary>
public sealed class CifarJpegCounterparts : IImageSource
{
    public static readonly string[] ClassNames = { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" };
    private readonly TarImages archive;
    private readonly int[] order;

    public CifarJpegCounterparts(string binaryPath, string archivePath, string split)
    {
        var bytes = File.ReadAllBytes(binaryPath);
        const int record = 1 + 3 * 32 * 32;
        var perClass = new int[10];
        var names = new List<string>();
        for (long offset = 0; offset + record <= bytes.Length; offset += record)
        {
            int label = bytes[offset];
            names.Add($"{split}/{ClassNames[label]}/{perClass[label]++:D4}.jpg");
        }
        archive = new TarImages(archivePath, split + "/");
        var index = archive.Names.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        order = names.Select(n => index.TryGetValue(n, out int i) ? i
            : throw new QdmInputException($"{archivePath} lacks {n}, the JPEG of a record in {binaryPath}.")).ToArray();
        Description = $"JPEG versions in {archivePath} of the {order.Length} records of {binaryPath}";
    }

    public string Description { get; }
    public long Count => order.Length;

    public IEnumerable<Tensor> Batches(int batchSize)
    {
        for (int start = 0; start < order.Length; start += batchSize)
            yield return stack(order.Skip(start).Take(batchSize).Select(archive.Image).ToArray());
    }
}

/// <summary>Images inside a .tar.gz (e.g. cifar10-jpeg-q75.tar.gz), optionally those under a prefix ("train/"), in name order.</summary>
public sealed class TarImages : IImageSource
{
    private readonly List<(string Name, byte[] Data)> entries = new();

    public TarImages(string path, string prefix)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            if (!name.StartsWith(prefix, StringComparison.Ordinal) || !IsImage(name)) continue;
            using var data = new MemoryStream();
            entry.DataStream.CopyTo(data);
            entries.Add((name, data.ToArray()));
        }
        if (entries.Count == 0) throw new QdmInputException($"{path} holds no images under '{prefix}'.");
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        Description = $"{path}:{prefix} ({entries.Count} images)";
    }

    public string Description { get; }
    public long Count => entries.Count;

    public IReadOnlyList<string> Names => entries.Select(e => e.Name).ToList();

    public Tensor Image(int index) => Decode(entries[index].Name, entries[index].Data);

    public IEnumerable<Tensor> Batches(int batchSize)
    {
        for (int start = 0; start < entries.Count; start += batchSize)
            yield return stack(entries.Skip(start).Take(batchSize).Select(e => Decode(e.Name, e.Data)).ToArray());
    }

    private static bool IsImage(string name) =>
        name.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".jpeg", StringComparison.OrdinalIgnoreCase) ||
        name.EndsWith(".png", StringComparison.OrdinalIgnoreCase);

    private static Tensor Decode(string name, byte[] data)
    {
        var image = ImageResult.FromMemory(data, ColorComponents.RedGreenBlue);
        return tensor(image.Data, new long[] { image.Height, image.Width, 3 }, ScalarType.Byte);
    }
}

/// <summary>Images already in memory (N×H×W×3 uint8), e.g. generated test sets.</summary>
public sealed class TensorImages(Tensor images, string description = "images in memory") : IImageSource
{
    public string Description => description;
    public long Count => images.shape[0];
    public IEnumerable<Tensor> Batches(int batchSize) => Slices(images, batchSize);

    public static IEnumerable<Tensor> Slices(Tensor images, int batchSize)
    {
        for (long start = 0; start < images.shape[0]; start += batchSize)
            yield return images[TensorIndex.Slice(start, Math.Min(start + batchSize, images.shape[0]))];
    }
}

/// <summary>Images skip … skip + count − 1 of a source (batches re-cut at the range's edges).</summary>
public sealed class ImageRange(IImageSource source, long skip, long count) : IImageSource
{
    public string Description => skip == 0 ? $"first {Count} of {source.Description}" : $"images {skip}–{skip + Count - 1} of {source.Description}";
    public long Count => Math.Max(0, Math.Min(count, source.Count - skip));

    public IEnumerable<Tensor> Batches(int batchSize)
    {
        long start = 0, end = skip + Count;   // [skip, end) in the source's numbering
        foreach (var batch in source.Batches(batchSize))
        {
            if (start >= end) yield break;
            long n = batch.shape[0];   // read before yielding: the consumer may dispose the batch
            long from = Math.Max(skip, start) - start, to = Math.Min(end, start + n) - start;
            start += n;
            if (to <= from) { batch.Dispose(); continue; }
            yield return from == 0 && to == n ? batch : batch[(int)from..(int)to];
        }
    }
}
