using Qdm.Metrics;
using Qdm.Tests.Support;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Qdm.Tests.Docs;

/// <summary>docs/library.md shows a program; these tests keep it compiled, identical to the text, and working.</summary>
public class LibraryGuideTests(ITestOutputHelper output) : TempFolder
{
    private static string GuidePath => Path.Combine(SharedAssets.RepoRoot, "docs", "library.md");
    private static string ProgramPath => Path.Combine(SharedAssets.RepoRoot, "tests", "Qdm.Tests", "Docs", "LibraryGuideExample.cs");

    [Fact]
    public void The_guide_shows_exactly_the_program_that_is_compiled_here()
    {
        var guide = File.ReadAllText(GuidePath).Replace("\r\n", "\n");
        const string fence = "```csharp\n";
        int start = guide.IndexOf(fence, StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/library.md has no ```csharp block");
        start += fence.Length;
        var shown = guide[start..guide.IndexOf("```", start, StringComparison.Ordinal)];

        var source = File.ReadAllText(ProgramPath).Replace("\r\n", "\n");
        const string begin = "// begin guide\n", end = "// end guide";
        int from = source.IndexOf(begin, StringComparison.Ordinal) + begin.Length;
        var compiled = source[from..source.IndexOf(end, from, StringComparison.Ordinal)];
        Assert.Equal(compiled, shown);
    }

    [SkippableFact]
    public void The_guide_program_quantizes_a_real_model_and_its_samples_stay_next_to_their_fp_twins()
    {
        var checkpoint = SharedAssets.Require("models/ddpm_cifar10_ch32_ema.ckpt");   // the ch32 model: a third of ch64's time
        double fd = QuantizeSampleMeasure.Run(checkpoint, dir, images: 4, steps: 3, calibrationSamples: 4);
        output.WriteLine($"FD-R18 between 4 FP and 4 quantized samples: {fd:F2}");
        Assert.True(double.IsFinite(fd) && fd > 0, $"FD-R18 must be finite and positive (quantization changes the images), got {fd}");

        long qdm = new FileInfo(Path.Combine(dir, "di2n-w8a8.qdm")).Length;
        long fp32 = new FileInfo(checkpoint).Length;   // float32 weights, plus a few kB of pickle
        output.WriteLine($"file {qdm:N0} bytes, FP32 checkpoint {fp32:N0}");
        Assert.True(qdm < 0.3 * fp32, $"the W8A8 file ({qdm:N0} bytes) must be about a quarter of the FP32 weights ({fp32:N0})");

        // Image i of both sets starts from the same x_T: a faithful quantization keeps each image near its FP twin,
        // much nearer than to the FP model's other images.
        var fp = ImageSources.Open(Path.Combine(dir, "fp")).Batches(4).Single().to(ScalarType.Float32);
        var quantized = ImageSources.Open(Path.Combine(dir, "di2n")).Batches(4).Single().to(ScalarType.Float32);
        double twins = (fp - quantized).abs().mean().item<float>();
        double strangers = (fp - fp.roll(1, 0)).abs().mean().item<float>();
        output.WriteLine($"mean |Δ pixel|: FP twin {twins:F2}, another FP image {strangers:F2}");
        Assert.True(twins > 0, "the quantized samples must differ from the FP ones");
        Assert.True(twins < 0.25 * strangers, $"quantized images must stay near their FP twins: |Δ| {twins:F2} vs {strangers:F2} between different images");
    }
}
