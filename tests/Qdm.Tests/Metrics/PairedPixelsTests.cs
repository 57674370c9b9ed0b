using Qdm.Metrics;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class PairedPixelsTests
{
    [Fact]
    public void The_shift_is_signed_per_channel_and_the_delta_is_absolute()
    {
        // Two 1×1×2 RGB images; a − b per pixel: (+4, −2, 0) and (−2, −2, 6).
        var a = tensor(new byte[] { 14, 8, 10, 8, 8, 16 }).reshape(1, 1, 2, 3);
        var b = tensor(new byte[] { 10, 10, 10, 10, 10, 10 }).reshape(1, 1, 2, 3);
        Assert.Equal(new[] { 1.0, -2.0, 3.0 }, PairedPixels.MeanShiftPerChannel(a, b));
        Assert.Equal(16.0 / 6, PairedPixels.MeanAbsDelta(a, b), 12);   // uint8 must not wrap around: |8 − 10| is 2, not 254
    }

    [Fact]
    public void The_per_image_spread_is_the_sample_std_of_each_images_mean_abs_delta()
    {
        // The same pixels as two 1×1 images: mean |Δ| 2 and 10/3; sample std (10/3 − 2)/√2.
        var a = tensor(new byte[] { 14, 8, 10, 8, 8, 16 }).reshape(2, 1, 1, 3);
        var b = tensor(new byte[] { 10, 10, 10, 10, 10, 10 }).reshape(2, 1, 1, 3);
        Assert.Equal(4.0 / 3 / Math.Sqrt(2), PairedPixels.PerImageAbsDeltaStd(a, b), 12);
    }

    [Fact]
    public void Sets_of_different_shapes_are_refused()
    {
        var ex = Assert.Throws<QdmInputException>(() => PairedPixels.MeanShiftPerChannel(zeros(2, 4, 4, 3), zeros(3, 4, 4, 3)));
        Assert.Contains("same shape", ex.Message);
    }
}
