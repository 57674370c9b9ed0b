using Qdm.IO;
using Qdm.Metrics;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class ImageSourcesTests
{
    private static string Numbered(int count)
    {
        // Image i is filled with the value i, so a range's contents say exactly which images it delivered.
        var images = arange(count, dtype: ScalarType.Byte).reshape(count, 1, 1, 1).expand(count, 2, 2, 3).contiguous();
        var path = Path.Combine(Path.GetTempPath(), $"qdm-range-{Guid.NewGuid():N}.npz");
        Npz.Write(path, new Dictionary<string, Tensor> { ["arr_0"] = images });
        return path;
    }

    private static int[] Delivered(IImageSource source, int batch) =>
        source.Batches(batch).SelectMany(b => b[.., 0, 0, 0].to(ScalarType.Int32).data<int>().ToArray()).ToArray();

    [Theory]
    [InlineData(0, 4L, 3)]      // first images, a batch cut
    [InlineData(5, 7L, 3)]      // a range starting and ending inside batches
    [InlineData(9, 100L, 4)]    // the limit runs past the end
    [InlineData(6, null, 5)]    // skip only
    public void Skip_and_limit_deliver_exactly_the_requested_images(long skip, long? limit, int batch)
    {
        var path = Numbered(20);
        try
        {
            var source = ImageSources.Open(path, limit, skip);
            var expected = Enumerable.Range((int)skip, (int)Math.Min(limit ?? 20, 20 - skip)).ToArray();
            Assert.Equal(expected.Length, source.Count);
            Assert.Equal(expected, Delivered(source, batch));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Skipping_every_image_is_refused_with_the_count()
    {
        var path = Numbered(5);
        try
        {
            var error = Assert.Throws<QdmInputException>(() => ImageSources.Open(path, null, 5));
            Assert.Contains("holds 5", error.Message);
        }
        finally { File.Delete(path); }
    }
}
