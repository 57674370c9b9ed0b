using Qdm.Metrics;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Metrics;

public class FeaturePartsTests : TempFolder
{
    /// <summary>
    /// Features computed from the pixels themselves (so a misplaced image shows), counting the images it is given and
    /// failing, like a killed process, once it has seen more than a set number.
    /// </summary>
    private sealed class PixelFeatures(long failAfter = long.MaxValue) : IFeatureNetwork
    {
        public long Seen { get; private set; }
        public string Name => "pixels";
        public string PooledMetric => "FD-pixels";
        public string SpatialMetric => "sFD-pixels";
        public int PooledSize => 3;
        public int SpatialSize => 4;
        public bool HasClassifier => false;

        public FeatureBatch Extract(Tensor images)
        {
            Seen += images.shape[0];
            if (Seen > failAfter) throw new OperationCanceledException("stopped");
            var x = images.to(ScalarType.Float32);
            return new FeatureBatch(x.mean(new long[] { 1, 2 }), x.reshape(x.shape[0], -1)[.., ..4].contiguous(), null);
        }

        public void Dispose() { }
    }

    private static IImageSource Images(int count, string description = "test images")
    {
        var generator = new TorchSharp.torch.Generator(7);
        return new TensorImages(randint(0, 256, new long[] { count, 3, 3, 3 }, dtype: ScalarType.Byte, generator: generator), description);
    }

    [Fact]
    public void Parts_give_the_same_features_as_one_pass()
    {
        var images = Images(23);
        var whole = FeatureSet.Extract(new PixelFeatures(), images, batchSize: 4);
        var parted = new FeatureParts(Path.Combine(dir, "parts"), partSize: 10).Extract(new PixelFeatures(), images, batchSize: 4);
        Assert.True(whole.Pooled.equal(parted.Pooled).all().item<bool>());
        Assert.True(whole.Spatial.equal(parted.Spatial).all().item<bool>());
        Assert.Equal(3, Directory.GetFiles(Path.Combine(dir, "parts"), "*.npz").Length);   // 10 + 10 + 3
    }

    [Fact]
    public void A_stopped_extraction_resumes_from_its_finished_parts()
    {
        var images = Images(23);
        var parts = new FeatureParts(Path.Combine(dir, "parts"), partSize: 10);
        Assert.Throws<OperationCanceledException>(() => parts.Extract(new PixelFeatures(failAfter: 14), images, batchSize: 4));
        Assert.Equal(1, parts.SavedParts);

        var resumed = new PixelFeatures();
        var set = parts.Extract(resumed, images, batchSize: 4);
        Assert.Equal(13, resumed.Seen);   // only images 10–22: the first part was read back
        var whole = FeatureSet.Extract(new PixelFeatures(), images, batchSize: 4);
        Assert.True(whole.Pooled.equal(set.Pooled).all().item<bool>());
        Assert.True(whole.Spatial.equal(set.Spatial).all().item<bool>());

        parts.Delete();
        Assert.False(Directory.Exists(parts.Folder));
    }

    [Fact]
    public void Parts_of_another_image_set_are_refused_by_name()
    {
        var folder = Path.Combine(dir, "parts");
        new FeatureParts(folder, partSize: 10).Extract(new PixelFeatures(), Images(12, "set A"), batchSize: 4);
        var error = Assert.Throws<QdmInputException>(() =>
            new FeatureParts(folder, partSize: 10).Extract(new PixelFeatures(), Images(12, "set B"), batchSize: 4));
        Assert.Contains(folder, error.Message);
        Assert.Contains("set B", error.Message);
    }
}
