using Qdm.Reconstruction;
using Qdm.Workflows;

namespace Qdm.Tests.Workflows;

public class ReproductionReportTests
{
    private static RowResults Row(string? samplingCpu, long fresh, double seconds, string? quantizationCpu = null) => new(
        quantizationCpu is null ? null : new QuantizationRecord { Settings = "s", Before = Array.Empty<StepError>(), After = Array.Empty<StepError>(), Cpu = quantizationCpu },
        null,
        new SamplingRecord { Engine = "onnxruntime", Images = 5000, FreshImages = fresh, Seconds = seconds, Cpu = samplingCpu },
        Array.Empty<MetricsRecord>());

    [Fact]
    public void Where_computed_lists_each_CPU_with_its_rows_sampling_rates()
    {
        var results = new Dictionary<string, RowResults>
        {
            ["fp"] = Row("A", 5000, 10000),
            ["ptq4dm-w8a8-s0"] = Row("B", 1000, 4000, quantizationCpu: "B"),
            ["di2n-w8a8-s0"] = Row(null, 0, 0),
        };
        Assert.Equal(new[]
        {
            "- sampled on A: fp 0.50 images/s (last 5000 images)",
            "- sampled on B: ptq4dm-w8a8-s0 0.25 images/s (last 1000 images)",
            "- sampled on CPU not recorded: di2n-w8a8-s0 (resumed, no new images)",
            "- quantized on B: ptq4dm-w8a8-s0",
        }, ReproductionReport.WhereComputed(results));
    }

    [Fact]
    public void Progress_counts_finished_running_and_waiting_sets_and_is_silent_once_all_are_done()
    {
        var sampled = new Dictionary<string, long> { ["fp"] = 5000, ["ptq4dm-w8a8-s0"] = 2336, ["di2n-w8a8-s0"] = 0 };
        Assert.Equal(new[]
        {
            "- sampled in full: 1 of 3 computations (fp)",
            "- in progress: ptq4dm-w8a8-s0 2,336 of 5,000 images",
            "- not started: di2n-w8a8-s0",
            "- 7,336 of 15,000 images sampled (48.9 %); the tables show finished sets only",
        }, ReproductionReport.Progress(sampled, 5000));
        Assert.Empty(ReproductionReport.Progress(sampled.ToDictionary(kv => kv.Key, _ => 5000L), 5000));
        // 7,664 images left at 0.4 per second: 19,160 s.
        Assert.Equal("- time left: ~5.3 h of sampling at 0.40 images/s (the rate the finished sets' fresh images were made at), plus the quantization of each row not yet quantized",
            ReproductionReport.Progress(sampled, 5000, 0.4).Last());
    }
}
