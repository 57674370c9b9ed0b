using System.CommandLine;

namespace Qdm.Cli;

/// <summary>
/// How sampling spreads over the CPU threads: W batches at once, each on threads/W intra-op threads. For the ONNX
/// Runtime backend the default is one single-threaded worker per thread: on a 32×32 U-Net most operators are too
/// small to split well, and two independent batches on two cores sample ~30 % more images per second than one batch
/// on both (README, "Sampling throughput"). TorchSharp modules are not called concurrently, so that backend keeps one.
/// </summary>
public sealed record SamplingWorkers(int Workers, int ThreadsPerWorker)
{
    public static Option<int?> CreateOption() => new("--workers")
    {
        Description = "Batches sampled at once, each on threads/workers threads (ort backend; default: one per thread).",
    };

    public static SamplingWorkers Resolve(string backend, int threads, int? workers)
    {
        threads = Math.Max(1, threads);
        if (workers is < 1) throw new QdmInputException($"--workers must be positive, got {workers}.");
        if (backend != "ort")
        {
            if (workers is > 1) throw new QdmInputException($"--workers {workers} needs --backend ort (TorchSharp models are sampled one batch at a time).");
            return new SamplingWorkers(1, threads);
        }
        int w = Math.Min(workers ?? threads, threads);
        return new SamplingWorkers(w, Math.Max(1, threads / w));
    }

    /// <summary>No more workers than batches to sample: the threads of idle workers go to the busy ones.</summary>
    public SamplingWorkers ForBatches(long batches)
    {
        int w = (int)Math.Clamp(batches, 1, Workers);
        return new SamplingWorkers(w, Math.Max(1, Workers * ThreadsPerWorker / w));
    }

    public string Describe() => Workers == 1 ? Threads(ThreadsPerWorker) : $"{Workers} workers × {Threads(ThreadsPerWorker)}";

    public static string Threads(int n) => n == 1 ? "1 thread" : $"{n} threads";
}
