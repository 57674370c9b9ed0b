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
}
