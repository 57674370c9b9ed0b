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
    public void Removing_the_mean_shift_subtracts_each_channels_shift_and_stays_in_uint8()
    {
        // Shift (+1, −2, +3) as above: 14 − 1 = 13, 8 + 2 = 10, 10 − 3 = 7; 8 − 1, 8 + 2, 16 − 3.
        var a = tensor(new byte[] { 14, 8, 10, 8, 8, 16 }).reshape(1, 1, 2, 3);
        var b = tensor(new byte[] { 10, 10, 10, 10, 10, 10 }).reshape(1, 1, 2, 3);
        Assert.Equal(new byte[] { 13, 10, 7, 7, 10, 13 }, PairedPixels.WithoutMeanShift(a, b).data<byte>().ToArray());
        // Clamped at the ends of the range instead of wrapping: differences 0 and 20 give a shift of 10, which moves 0 to
        // −10 (kept at 0) and 200 to 190; differences 0 and −20 give −10, which moves 255 to 265 (kept at 255).
        var down = PairedPixels.WithoutMeanShift(tensor(new byte[] { 0, 0, 0, 200, 200, 200 }).reshape(2, 1, 1, 3),
                                                 tensor(new byte[] { 0, 0, 0, 180, 180, 180 }).reshape(2, 1, 1, 3));
        Assert.Equal(new byte[] { 0, 0, 0, 190, 190, 190 }, down.data<byte>().ToArray());
        var up = PairedPixels.WithoutMeanShift(tensor(new byte[] { 255, 255, 255, 100, 100, 100 }).reshape(2, 1, 1, 3),
                                               tensor(new byte[] { 255, 255, 255, 120, 120, 120 }).reshape(2, 1, 1, 3));
        Assert.Equal(new byte[] { 255, 255, 255, 110, 110, 110 }, up.data<byte>().ToArray());
    }

    [Fact]
    public void Sets_of_different_shapes_are_refused()
    {
        var ex = Assert.Throws<QdmInputException>(() => PairedPixels.MeanShiftPerChannel(zeros(2, 4, 4, 3), zeros(3, 4, 4, 3)));
        Assert.Contains("same shape", ex.Message);
    }
}
