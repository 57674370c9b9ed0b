using Qdm.Cli;

namespace Qdm.Tests.Cli;

public class SamplingWorkersTests
{
    [Fact]
    public void Ort_defaults_to_one_single_threaded_worker_per_thread_and_TorchSharp_to_one_worker()
    {
        Assert.Equal(new SamplingWorkers(2, 1), SamplingWorkers.Resolve("ort", threads: 2, workers: null));
        Assert.Equal(new SamplingWorkers(1, 4), SamplingWorkers.Resolve("ort", threads: 4, workers: 1));
        Assert.Equal(new SamplingWorkers(2, 2), SamplingWorkers.Resolve("ort", threads: 4, workers: 2));
        Assert.Equal(new SamplingWorkers(2, 1), SamplingWorkers.Resolve("ort", threads: 2, workers: 8));   // never more workers than threads
        Assert.Equal(new SamplingWorkers(1, 2), SamplingWorkers.Resolve("torchsharp", threads: 2, workers: null));
    }

    [Fact]
    public void Fewer_batches_than_workers_give_the_idle_workers_threads_to_the_busy_ones()
    {
        var four = SamplingWorkers.Resolve("ort", threads: 4, workers: null);
        Assert.Equal(new SamplingWorkers(1, 4), four.ForBatches(1));
        Assert.Equal(new SamplingWorkers(2, 2), four.ForBatches(2));
        Assert.Equal(four, four.ForBatches(100));
    }

    [Fact]
    public void Impossible_worker_counts_are_refused_with_the_option_named()
    {
        Assert.Contains("--workers", Assert.Throws<QdmInputException>(() => SamplingWorkers.Resolve("torchsharp", 2, 2)).Message);
        Assert.Contains("--workers", Assert.Throws<QdmInputException>(() => SamplingWorkers.Resolve("ort", 2, 0)).Message);
    }
}
