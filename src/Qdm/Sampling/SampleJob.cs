using System.Diagnostics;
using System.Text.Json;
using Qdm.Diffusion;
using Qdm.IO;
using static TorchSharp.torch;

namespace Qdm.Sampling;

/// <summary>A sampling run: N images from one seed, split into shards and batches.</summary>
public sealed record SampleJobConfig
{
    public int Count { get; init; } = 64;
    public int BatchSize { get; init; } = 32;
    public long Seed { get; init; }
    public int ShardIndex { get; init; }
    public int ShardCount { get; init; } = 1;
    public bool WritePngs { get; init; } = true;
    public int GridImages { get; init; } = 64;
    /// <summary>Batches computed at once. Above 1 the denoiser must be safe to call concurrently (ONNX Runtime is).</summary>
    public int Workers { get; init; } = 1;

    public SampleJobConfig Validated()
    {
        if (Count < 1) throw new QdmInputException($"--n must be positive, got {Count}.");
        if (BatchSize < 1) throw new QdmInputException($"--batch must be positive, got {BatchSize}.");
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount)
            throw new QdmInputException($"--shard must be i/n with 0 ≤ i < n, got {ShardIndex}/{ShardCount}.");
        if (Workers < 1) throw new QdmInputException($"--workers must be positive, got {Workers}.");
        if (ShardCount > Count) throw new QdmInputException($"{ShardCount} shards for {Count} images leaves empty shards.");
        return this;
    }

    /// <summary>Images [First, First + Length) belong to this shard: contiguous, disjoint ranges covering 0..N−1.</summary>
    public (long First, long Length) ShardRange()
    {
        long first = (long)Count * ShardIndex / ShardCount, end = (long)Count * (ShardIndex + 1) / ShardCount;
        return (first, end - first);
    }
}

public sealed record SampleProgress(long Done, long Total, double ImagesPerSecond, bool Resumed)
{
    /// <summary>Time left at this run's rate of fresh images; null until a fresh batch has finished.</summary>
    public TimeSpan? Remaining => ImagesPerSecond > 0 ? TimeSpan.FromSeconds((Total - Done) / ImagesPerSecond) : null;

    /// <summary>One line for logs, where a progress bar renders only its description: "3,920 of 5,000, 0.41 img/s, ~44 min left".</summary>
    public string Status()
    {
        var line = $"{Done:N0} of {Total:N0}";
        return Remaining is { } left ? $"{line}, {ImagesPerSecond:F2} img/s, ~{Durations.Readable(left.TotalSeconds)} left" : line;
    }
}

public sealed record SampleResult(string SamplesPath, string? GridPath, long Images, long ResumedImages, double Seconds);

/// <summary>
/// Runs a sampling job into a folder: one atomic .npz per finished batch (so an interrupted run resumes where it
/// stopped), then the shard's samples.npz (uint8 NHWC under arr_0, as the ADM evaluator reads), PNGs and a grid.
/// </summary>
public static class SampleJob
{
    public const string ManifestName = "run.json";

    /// <param name="denoiser">Computes the network (e.g. ONNX Runtime); default: the model's TorchSharp network.</param>
    public static SampleResult Run(DiffusionModel model, SamplerConfig sampler, SampleJobConfig job, string outDir,
        IProgress<SampleProgress>? progress = null, CancellationToken cancel = default, Denoiser? denoiser = null, string engine = "torchsharp")
    {
        job.Validated();
        Directory.CreateDirectory(outDir);
        CheckManifest(outDir, Manifest(model, sampler, job, engine));
        var diffusion = new GaussianDiffusion(model.Diffusion);
        var (first, length) = job.ShardRange();
        var batchDir = Path.Combine(outDir, "batches");
        Directory.CreateDirectory(batchDir);

        var batches = new List<(long Start, int Count, string File)>();
        for (long start = first; start < first + length; start += job.BatchSize)
        {
            int count = (int)Math.Min(job.BatchSize, first + length - start);
            batches.Add((start, count, Path.Combine(batchDir, $"{start:D7}-{start + count - 1:D7}.npz")));
        }

        long done = 0, resumed = 0;
        var clock = Stopwatch.StartNew();
        var progressLock = new object();
        void Finished(int count, bool wasResumed)
        {
            lock (progressLock)
            {
                done += count;
                if (wasResumed) resumed += count;
                double fresh = done - resumed;
                progress?.Report(new SampleProgress(done, length, wasResumed ? 0 : fresh / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), wasResumed));
            }
        }
        var pending = new List<(long Start, int Count, string File)>();
        foreach (var batch in batches)
            if (IsComplete(batch.File, batch.Count)) Finished(batch.Count, wasResumed: true);
            else pending.Add(batch);
        clock.Restart();   // the rate counts sampling only, not the check of earlier batches

        void SampleBatch((long Start, int Count, string File) batch)
        {
            using var scope = NewDisposeScope();
            using var noise = new PerImageNoise(job.Seed, batch.Start, batch.Count);
            var shape = new long[] { model.Config.InChannels, model.Config.ImageSize, model.Config.ImageSize };
            var xT = noise.Next(shape);
            var x0 = Sampler.Sample(denoiser ?? model.Denoiser, diffusion, sampler, xT, noise);
            Npz.Write(batch.File, new Dictionary<string, Tensor>
            {
                ["images"] = ImageTensors.ToUint8Nhwc(x0),
                ["indices"] = arange(batch.Start, batch.Start + batch.Count, dtype: ScalarType.Int64),
            });
            Finished(batch.Count, wasResumed: false);
        }
        // Image i depends only on (seed, i), so batches are independent: workers change speed, never the images.
        if (job.Workers == 1)
            foreach (var batch in pending) { cancel.ThrowIfCancellationRequested(); SampleBatch(batch); }
        else
            // In order, one batch at a time per worker (not range chunks): an interrupted run leaves at most one gap per worker.
            try
            {
                Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(pending, System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering),
                    new ParallelOptions { MaxDegreeOfParallelism = job.Workers, CancellationToken = cancel }, SampleBatch);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();   // as one worker would fail
            }

        return Finish(job, outDir, batches.Select(b => b.File).ToList(), resumed, clock.Elapsed.TotalSeconds);
    }

    public static string SamplesFileName(SampleJobConfig job) =>
        job.ShardCount == 1 ? "samples.npz" : $"samples_shard{job.ShardIndex}of{job.ShardCount}.npz";

    private static SampleResult Finish(SampleJobConfig job, string outDir, List<string> batchFiles, long resumed, double seconds)
    {
        using var scope = NewDisposeScope();
        var batches = batchFiles.Select(f => Npz.Read(f)).ToList();
        var images = cat(batches.Select(b => b["images"]).ToArray(), 0);
        var indices = cat(batches.Select(b => b["indices"]).ToArray(), 0);
        var samplesPath = Path.Combine(outDir, SamplesFileName(job));
        Npz.Write(samplesPath, new Dictionary<string, Tensor>
        {
            ["arr_0"] = images,
            ["indices"] = indices,
            ["total"] = tensor(new long[] { job.Count }),   // lets merge check that every shard is present
        }, compress: true);

        if (job.WritePngs)
        {
            var pngDir = Path.Combine(outDir, "png");
            var ids = indices.data<long>().ToArray();
            for (int i = 0; i < ids.Length; i++) Png.Write(Path.Combine(pngDir, $"{ids[i]:D6}.png"), images[i]);
        }
        string? gridPath = null;
        if (job.GridImages > 0)
        {
            gridPath = Path.Combine(outDir, job.ShardCount == 1 ? "grid.png" : $"grid_shard{job.ShardIndex}of{job.ShardCount}.png");
            Png.Write(gridPath, Png.Grid(images[..(int)Math.Min(job.GridImages, images.shape[0])]));
        }
        return new SampleResult(samplesPath, gridPath, images.shape[0], resumed, seconds);
    }

    private static bool IsComplete(string file, int count)
    {
        if (!File.Exists(file)) return false;
        try
        {
            using var images = Npz.ReadArray(file, "images");
            return images.shape[0] == count;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return false;   // a damaged batch file is simply redone
        }
    }

    private static Dictionary<string, string> Manifest(DiffusionModel model, SamplerConfig sampler, SampleJobConfig job, string engine) => new()
    {
        ["model"] = model.Identity,
        ["engine"] = engine,
        ["architecture"] = model.Config.Describe(),
        ["diffusion"] = model.Diffusion.Describe(),
        ["sampler"] = sampler.Describe(),
        ["seed"] = job.Seed.ToString(),
        ["count"] = job.Count.ToString(),
        ["batch"] = job.BatchSize.ToString(),
        ["shard"] = $"{job.ShardIndex}/{job.ShardCount}",
        ["image_encoding"] = "uint8 NHWC, round((x+1)*127.5) clamped",
    };

    /// <summary>A folder holds one run: resuming with other settings would mix two runs' batches.</summary>
    private static void CheckManifest(string outDir, Dictionary<string, string> manifest)
    {
        var path = Path.Combine(outDir, ManifestName);
        if (File.Exists(path))
        {
            var existing = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? new();
            var differing = manifest.Keys.Where(k => k != "batch" && (!existing.TryGetValue(k, out var v) || v != manifest[k])).ToList();
            if (differing.Count > 0)
                throw new QdmInputException($"{outDir} holds a run with other settings ({string.Join(", ", differing.Select(k => $"{k}: '{existing.GetValueOrDefault(k)}' vs '{manifest[k]}'"))}); " +
                    "use a new --out folder or delete it.");
            if (existing.GetValueOrDefault("batch") != manifest["batch"])
                foreach (var stale in Directory.EnumerateFiles(Path.Combine(outDir, "batches"), "*.npz")) File.Delete(stale);
        }
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
    }
}
