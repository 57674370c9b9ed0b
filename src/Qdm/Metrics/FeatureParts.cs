using System.Text.Json;
using Qdm.IO;
using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Extracts the features of a long image set (e.g. the 50,000 CIFAR-10 training images: ~25 min for ResNet-18 on two
/// Zen 3 cores, an hour beside other work) in parts of <paramref name="partSize"/> images, each saved to
/// <paramref name="folder"/> as soon as it is done, so a stopped extraction resumes from its last finished part. The folder records which network and image set
/// its parts belong to, and parts of another extraction are refused, never mixed in.
/// </summary>
public sealed class FeatureParts(string folder, long partSize = 5000)
{
    private const string ManifestName = "parts.json";

    public string Folder => folder;

    /// <summary>Parts already saved (of this or another extraction; <see cref="Extract"/> checks which).</summary>
    public int SavedParts => Directory.Exists(folder) ? Directory.GetFiles(folder, "*.npz").Length : 0;

    public FeatureSet Extract(IFeatureNetwork network, IImageSource images, int batchSize = 50, IProgress<long>? progress = null,
        CancellationToken cancel = default)
    {
        if (partSize < 1) throw new QdmInputException($"feature parts need at least one image each, got {partSize}.");
        var manifest = new Manifest(network.Name, images.Description, images.Count, partSize);
        CheckOrWriteManifest(manifest);
        var parts = new List<FeatureSet>();
        for (long start = 0; start < images.Count; start += partSize)
        {
            long count = Math.Min(partSize, images.Count - start);
            var path = PartPath(start);
            FeatureSet part;
            if (File.Exists(path)) part = Read(path, network.Name, count);
            else
            {
                var range = new ImageRange(images, start, count);
                part = FeatureSet.Extract(network, range, batchSize, progress is null ? null : new OffsetProgress(progress, start), cancel);
                Write(path, part);
            }
            parts.Add(part);
            progress?.Report(start + count);
        }
        var whole = new FeatureSet(network.Name,
            cat(parts.Select(p => p.Pooled).ToArray(), 0), cat(parts.Select(p => p.Spatial).ToArray(), 0),
            parts[0].Logits is null ? null : cat(parts.Select(p => p.Logits!).ToArray(), 0));
        foreach (var p in parts) { p.Pooled.Dispose(); p.Spatial.Dispose(); p.Logits?.Dispose(); }
        return whole;
    }

    /// <summary>Removes the parts once what they were for (e.g. the statistics file) is safely written.</summary>
    public void Delete()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    private string PartPath(long start) => Path.Combine(folder, $"{start:D9}.npz");

    private void CheckOrWriteManifest(Manifest expected)
    {
        var path = Path.Combine(folder, ManifestName);
        if (File.Exists(path))
        {
            var found = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path));
            if (found != expected)
                throw new QdmInputException($"{folder} holds feature parts of another extraction ({found}); expected {expected}. " +
                    "Delete the folder to start over.");
            return;
        }
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(expected, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static void Write(string path, FeatureSet part)
    {
        var arrays = new Dictionary<string, Tensor> { ["pooled"] = part.Pooled, ["spatial"] = part.Spatial };
        if (part.Logits is not null) arrays["logits"] = part.Logits;
        Npz.Write(path, arrays, new Dictionary<string, string> { ["network"] = part.Network });
    }

    private static FeatureSet Read(string path, string network, long count)
    {
        var arrays = Npz.Read(path);
        if (!arrays.TryGetValue("pooled", out var pooled) || !arrays.TryGetValue("spatial", out var spatial) || pooled.shape[0] != count)
            throw new QdmInputException($"{path} is not a finished feature part of {count} images; delete it to extract that part again.");
        return new FeatureSet(network, pooled, spatial, arrays.GetValueOrDefault("logits"));
    }

    private sealed record Manifest(string Network, string Images, long Count, long PartSize);

    /// <summary>Reports a part's progress in the numbering of the whole set.</summary>
    private sealed class OffsetProgress(IProgress<long> inner, long offset) : IProgress<long>
    {
        public void Report(long value) => inner.Report(offset + value);
    }
}
