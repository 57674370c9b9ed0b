using Qdm.Diffusion;
using Qdm.IO;
using Qdm.Models;
using Qdm.Sampling;
using Qdm.Tests.Models;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Sampling;

public class SampleJobTests : TempFolder
{
    private static DiffusionModel TinyModel()
    {
        var network = ModelFactory.Create(CheckpointLoadingTests.TinyDdpm);
        var g = new Generator(3);
        using (no_grad())
            foreach (var p in network.parameters()) p.copy_(randn(p.shape, generator: g) * 0.05);
        return new DiffusionModel(network, DiffusionConfig.DdpmLinear1000, "tiny");
    }

    private static readonly SamplerConfig FewSteps = new() { Steps = 4 };

    private Tensor RunJob(DiffusionModel model, string name, SampleJobConfig job) =>
        Npz.ReadArray(SampleJob.Run(model, FewSteps, job, Path.Combine(dir, name)).SamplesPath, "arr_0");

    [Fact]
    public void Images_depend_on_seed_and_index_only_not_on_batching_or_sharding()
    {
        var model = TinyModel();
        var whole = RunJob(model, "whole", new SampleJobConfig { Count = 6, BatchSize = 6, WritePngs = false });
        var batched = RunJob(model, "batched", new SampleJobConfig { Count = 6, BatchSize = 4, WritePngs = false });
        var shards = Enumerable.Range(0, 3).Select(i => SampleJob.Run(model, FewSteps,
            new SampleJobConfig { Count = 6, BatchSize = 1, ShardIndex = i, ShardCount = 3, WritePngs = false },
            Path.Combine(dir, $"shard{i}")).SamplesPath).ToList();
        var mergedPath = Path.Combine(dir, "merged.npz");
        Assert.Equal(6, SampleMerge.Merge(shards, mergedPath));

        Assert.Equal(new long[] { 6, 16, 16, 3 }, whole.shape);
        Assert.Equal(ScalarType.Byte, whole.dtype);
        // Batched forwards may differ in the last float bit; after uint8 rounding at most one level.
        Assert.True(TensorAssert.MaxAbsDiff(whole, batched) <= 1);
        Assert.True(TensorAssert.MaxAbsDiff(whole, Npz.ReadArray(mergedPath, "arr_0")) <= 1);
        var other = RunJob(model, "seed1", new SampleJobConfig { Count = 6, BatchSize = 6, Seed = 1, WritePngs = false });
        Assert.True(TensorAssert.MaxAbsDiff(whole, other) > 10, "another seed must give other images");
    }

    [Fact]
    public void Concurrent_workers_give_the_same_images_as_one_and_report_every_image_once()
    {
        var model = TinyModel();
        using var ort = new Qdm.Export.OrtUNet(Qdm.Export.UNetOnnxExporter.Export(model.Network), threads: 1);
        Denoiser denoiser = (x, t) => ort.Forward(x, t);
        Tensor Run(string name, int workers, List<SampleProgress> reports)
        {
            var job = new SampleJobConfig { Count = 7, BatchSize = 2, Workers = workers, WritePngs = false };
            var progress = new SynchronousReports(reports);
            return Npz.ReadArray(SampleJob.Run(model, FewSteps, job, Path.Combine(dir, name), progress, denoiser: denoiser, engine: "onnxruntime").SamplesPath, "arr_0");
        }
        var oneReports = new List<SampleProgress>();
        var manyReports = new List<SampleProgress>();
        var one = Run("one", 1, oneReports);
        var many = Run("many", 3, manyReports);

        Assert.Equal(0, TensorAssert.MaxAbsDiff(one, many));   // batches are independent: order of completion is irrelevant
        var done = manyReports.Select(r => r.Done).ToArray();   // batches of 2, 2, 2, 1 images, in any completion order
        Assert.Equal(4, done.Length);
        Assert.Equal(done.Order(), done);
        Assert.Equal(7, done[^1]);
        Assert.All(manyReports, r => Assert.Equal(7, r.Total));
        Assert.Throws<QdmInputException>(() => new SampleJobConfig { Workers = 0 }.Validated());
    }

    [Fact]
    public void Workers_take_batches_in_order_so_an_interrupted_run_leaves_a_prefix()
    {
        var model = TinyModel();
        using var ort = new Qdm.Export.OrtUNet(Qdm.Export.UNetOnnxExporter.Export(model.Network), threads: 1);
        using var cancel = new CancellationTokenSource();
        var job = new SampleJobConfig { Count = 20, BatchSize = 2, Workers = 2, WritePngs = false };
        var progress = new SynchronousReports(new List<SampleProgress>(), r => { if (r.Done >= 4) cancel.Cancel(); });
        var folder = Path.Combine(dir, "interrupted");
        Assert.ThrowsAny<OperationCanceledException>(() =>
            SampleJob.Run(model, FewSteps, job, folder, progress, cancel.Token, (x, t) => ort.Forward(x, t), "onnxruntime"));

        // Cancelled after two batches: only batches a worker had already taken (the first four) can exist.
        var starts = Directory.GetFiles(Path.Combine(folder, "batches")).Select(f => int.Parse(Path.GetFileName(f)[..7])).ToList();
        Assert.InRange(starts.Count, 2, 4);
        Assert.All(starts, s => Assert.True(s <= 6, $"batch starting at image {s} was sampled before earlier ones"));
    }

    /// <summary>Collects progress reports on the reporting thread (Progress&lt;T&gt; would post them to a context later).</summary>
    private sealed class SynchronousReports(List<SampleProgress> reports, Action<SampleProgress>? then = null) : IProgress<SampleProgress>
    {
        public void Report(SampleProgress value)
        {
            lock (reports) reports.Add(value);
            then?.Invoke(value);
        }
    }

    [Fact]
    public void A_run_folder_is_an_image_source_of_its_finished_images_up_to_the_first_gap()
    {
        var model = TinyModel();
        var folder = Path.Combine(dir, "run");
        var full = RunJob(model, "run", new SampleJobConfig { Count = 6, BatchSize = 2, WritePngs = false });
        File.Delete(Path.Combine(folder, "batches", "0000002-0000003.npz"));   // as if images 2..3 were not done yet

        var source = Qdm.Metrics.ImageSources.Open(folder);
        Assert.Equal(2, source.Count);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(full[..2], cat(source.Batches(1).ToArray(), 0)));
        Assert.Equal(1, Qdm.Metrics.ImageSources.Open(folder, limit: 1).Count);
    }

    [Fact]
    public void An_interrupted_run_resumes_without_redoing_finished_batches()
    {
        var model = TinyModel();
        var job = new SampleJobConfig { Count = 5, BatchSize = 2, WritePngs = true, GridImages = 4 };
        var runDir = Path.Combine(dir, "run");
        var first = SampleJob.Run(model, FewSteps, job, runDir);
        Assert.Equal(0, first.ResumedImages);
        var batchFiles = Directory.GetFiles(Path.Combine(runDir, "batches")).Order().ToArray();
        Assert.Equal(3, batchFiles.Length);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(runDir, "png")).Length);
        Assert.True(File.Exists(first.GridPath));

        // Simulate a crash after the first batch: later batch files are gone, one is half-written.
        File.Delete(batchFiles[2]);
        File.WriteAllBytes(batchFiles[1], new byte[10]);
        var stamp = File.GetLastWriteTimeUtc(batchFiles[0]);
        var resumed = SampleJob.Run(model, FewSteps, job, runDir);
        Assert.Equal(2, resumed.ResumedImages);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(batchFiles[0]));
        Assert.Equal(0, TensorAssert.MaxAbsDiff(Npz.ReadArray(first.SamplesPath, "arr_0"), Npz.ReadArray(resumed.SamplesPath, "arr_0")));
    }

    [Fact]
    public void A_folder_holding_another_run_is_refused()
    {
        var model = TinyModel();
        var runDir = Path.Combine(dir, "run");
        SampleJob.Run(model, FewSteps, new SampleJobConfig { Count = 2, BatchSize = 2, WritePngs = false }, runDir);
        var error = Assert.Throws<QdmInputException>(() =>
            SampleJob.Run(model, FewSteps, new SampleJobConfig { Count = 2, BatchSize = 2, Seed = 9, WritePngs = false }, runDir));
        Assert.Contains("seed", error.Message);
    }

    [Fact]
    public void Merge_refuses_overlapping_or_incomplete_shards()
    {
        var model = TinyModel();
        string Shard(int i) => SampleJob.Run(model, FewSteps,
            new SampleJobConfig { Count = 4, BatchSize = 2, ShardIndex = i, ShardCount = 2, WritePngs = false, GridImages = 0 },
            Path.Combine(dir, $"s{i}")).SamplesPath;
        var s0 = Shard(0);
        var s1 = Shard(1);
        Assert.Contains("missing", Assert.Throws<QdmInputException>(() => SampleMerge.Merge(new[] { s0 }, Path.Combine(dir, "m.npz"))).Message);
        Assert.Contains("two shards", Assert.Throws<QdmInputException>(() => SampleMerge.Merge(new[] { s0, s1, s1 }, Path.Combine(dir, "m.npz"))).Message);
    }

    [Fact]
    public void Progress_status_gives_time_left_at_the_fresh_rate_once_a_fresh_batch_finished()
    {
        Assert.Equal($"{3904:N0} of {5000:N0}", new SampleProgress(3904, 5000, 0, Resumed: true).Status());
        Assert.Null(new SampleProgress(3904, 5000, 0, Resumed: true).Remaining);

        var running = new SampleProgress(3920, 5000, 0.4, Resumed: false);
        Assert.Equal(2700, running.Remaining!.Value.TotalSeconds, 6);   // 1,080 images at 0.4 per second
        Assert.Equal($"{3920:N0} of {5000:N0}, 0.40 img/s, ~45 min left", running.Status());
        Assert.EndsWith("~2.5 h left", new SampleProgress(0, 100, 100 / 9000.0, false).Status());
        Assert.EndsWith("~2 s left", new SampleProgress(99, 100, 0.5, false).Status());
    }
}
