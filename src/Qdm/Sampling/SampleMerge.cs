using Qdm.IO;
using static TorchSharp.torch;

namespace Qdm.Sampling;

/// <summary>Joins shard sample files into one .npz, checking that the shards cover 0..N−1 exactly once.</summary>
public static class SampleMerge
{
    public static long Merge(IReadOnlyList<string> shardFiles, string outPath)
    {
        if (shardFiles.Count == 0) throw new QdmInputException("merge needs at least one shard file.");
        using var scope = NewDisposeScope();
        var images = new List<Tensor>();
        var indices = new List<Tensor>();
        long? total = null;
        foreach (var file in shardFiles)
        {
            if (!File.Exists(file)) throw new QdmInputException($"shard file not found: {file}");
            var arrays = Npz.Read(file);
            if (!arrays.TryGetValue("arr_0", out var arr) || !arrays.TryGetValue("indices", out var idx))
                throw new QdmInputException($"{file} is not a qdm sample file (needs arr_0 and indices).");
            long shardTotal = arrays.TryGetValue("total", out var t) ? t.data<long>()[0] : -1;
            if (total is not null && shardTotal != total)
                throw new QdmInputException($"{file} belongs to a run of {shardTotal} images, the others to {total}.");
            total = shardTotal;
            images.Add(arr);
            indices.Add(idx);
        }
        var allIndices = cat(indices.ToArray(), 0);
        var (sorted, order) = allIndices.sort();
        var ids = sorted.data<long>().ToArray();
        for (long i = 1; i < ids.Length; i++)
            if (ids[i] == ids[i - 1]) throw new QdmInputException($"image {ids[i]} appears in two shards.");
        if (total >= 0 && ids.Length != total)
            throw new QdmInputException($"the shards hold {ids.Length} of the run's {total} images; is a shard missing?");
        for (long i = 0; i < ids.Length; i++)
            if (ids[i] != i) throw new QdmInputException($"shards do not cover 0..{ids.Length - 1}: image {i} is missing.");
        var merged = cat(images.ToArray(), 0).index_select(0, order);
        Npz.Write(outPath, new Dictionary<string, Tensor>
        {
            ["arr_0"] = merged,
            ["indices"] = sorted,
            ["total"] = tensor(new long[] { ids.Length }),
        }, compress: true);
        return ids.Length;
    }
}
