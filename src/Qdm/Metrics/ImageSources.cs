using Qdm.IO;
using StbImageSharp;
using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>A set of uint8 RGB images delivered in batches (N×H×W×3); a consumer may dispose each batch once it is done with it.</summary>
public interface IImageSource
{
    string Description { get; }
    long Count { get; }
    IEnumerable<Tensor> Batches(int batchSize);
}

public static class ImageSources
{
    public const string Formats =
        "a folder of images, a qdm sample run folder (its finished batches, also while it runs), an .npz with arr_0 (uint8 N×H×W×3), a CIFAR-10 .bin, an MNIST *-idx3-ubyte[.gz], or ARCHIVE.tar.gz[:prefix/]";

    /// <summary>Opens any supported image set; skip drops the first images, limit keeps only the next ones.</summary>
    public static IImageSource Open(string spec, long? limit = null, long skip = 0)
    {
        var source = OpenAll(spec);
        if (skip < 0) throw new QdmInputException($"--skip must be ≥ 0, got {skip}.");
        if (skip >= source.Count && skip > 0) throw new QdmInputException($"{source.Description}: --skip {skip} leaves no images (it holds {source.Count}).");
        long count = Math.Min(limit ?? long.MaxValue, source.Count - skip);
        return skip == 0 && count == source.Count ? source : new ImageRange(source, skip, count);
    }

    private static IImageSource OpenAll(string spec)
    {
        if (Directory.Exists(spec) && File.Exists(Path.Combine(spec, "run.json")) && Directory.Exists(Path.Combine(spec, "batches")))
            return new SampleRunImages(spec);
        if (Directory.Exists(spec)) return new FolderImages(spec);
        string path = spec, prefix = "";
        int tarAt = spec.IndexOf(".tar.gz:", StringComparison.OrdinalIgnoreCase);
        if (tarAt >= 0) { path = spec[..(tarAt + 7)]; prefix = spec[(tarAt + 8)..]; }
        if (!File.Exists(path)) throw new QdmInputException($"images not found: {path} (expected {Formats}).");
        var lower = path.ToLowerInvariant();
        if (lower.EndsWith(".npz")) return new NpzImages(path);
        if (lower.EndsWith(".bin")) return new CifarBinaryImages(path);
        if (lower.Contains("idx3-ubyte")) return new MnistImages(path);
        if (lower.EndsWith(".tar.gz") || lower.EndsWith(".tgz")) return new TarImages(path, prefix);
        throw new QdmInputException($"{path}: unsupported image set; expected {Formats}.");
    }
}

public sealed class NpzImages : IImageSource
{
    private readonly Tensor images;

    public NpzImages(string path)
    {
        images = Npz.ReadArray(path, "arr_0");
        if (images.dtype != ScalarType.Byte || images.dim() != 4 || images.shape[3] != 3)
            throw new QdmInputException($"{path}: arr_0 must be uint8 N×H×W×3, found {images.dtype} [{string.Join(",", images.shape)}].");
        Description = $"{path} ({images.shape[0]} images {images.shape[1]}×{images.shape[2]})";
    }

    public string Description { get; }
    public long Count => images.shape[0];

    public IEnumerable<Tensor> Batches(int batchSize) => TensorImages.Slices(images, batchSize);
}

/// <summary>
/// The finished batches of a `qdm sample` run folder, images 0, 1, 2, … up to the first gap: a run can be measured while it
/// is still going (e.g. its first 1,000 of 5,000 images).
/// </summary>
public sealed class SampleRunImages : IImageSource
{
    private readonly Tensor images;

    public SampleRunImages(string folder)
    {
        var batches = new List<Tensor>();
        long next = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(folder, "batches"), "*.npz").Order(StringComparer.Ordinal))
        {
            if (!long.TryParse(Path.GetFileName(file).Split('-')[0], out long first) || first != next) break;
            try { batches.Add(Npz.ReadArray(file, "images")); }
            catch (Exception e) when (e is InvalidDataException or IOException) { break; }   // being written
            next += batches[^1].shape[0];
        }
        if (batches.Count == 0) throw new QdmInputException($"{folder} holds no finished sample batches yet.");
        images = cat(batches.ToArray(), 0);
        Description = $"{folder} (first {images.shape[0]} images of a sample run)";
    }

    public string Description { get; }
    public long Count => images.shape[0];

    public IEnumerable<Tensor> Batches(int batchSize) => TensorImages.Slices(images, batchSize);
}

/// <summary>Image files of one size, in ordinal name order (recursively), decoded to RGB.</summary>
public sealed class FolderImages : IImageSource
{
    private static readonly string[] Extensions = { ".png", ".jpg", ".jpeg", ".bmp" };
    private readonly string[] files;

    public FolderImages(string folder)
    {
        files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new QdmInputException($"{folder} holds no .png/.jpg/.bmp images.");
        Description = $"{folder} ({files.Length} image files)";
    }

    public string Description { get; }
    public long Count => files.Length;

    public IEnumerable<Tensor> Batches(int batchSize)
    {
        long[]? size = null;
        for (int start = 0; start < files.Length; start += batchSize)
        {
            var batch = files.Skip(start).Take(batchSize).Select(f =>
            {
                var image = Decode(f);
                size ??= image.shape;
                if (!image.shape.SequenceEqual(size))
                    throw new QdmInputException($"{f} is {image.shape[1]}×{image.shape[0]}, the first image {size[1]}×{size[0]}: a set must have one size.");
                return image;
            }).ToArray();
            yield return stack(batch);
        }
    }

    private static Tensor Decode(string file)
    {
        ImageResult result;
        try
        {
            using var stream = File.OpenRead(file);
            result = ImageResult.FromStream(stream, ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not IOException)
        {
            throw new QdmInputException($"{file} is not a readable image ({e.Message}).");
        }
        return tensor(result.Data, new long[] { result.Height, result.Width, 3 }, ScalarType.Byte);
    }
}
