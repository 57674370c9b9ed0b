using System.IO.Compression;
using System.Text;
using Qdm.IO;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.IO;

public class NpzTests : TempFolder
{
    [Fact]
    public void Written_arrays_have_numpys_npy_header_and_read_back_exactly()
    {
        var path = Path.Combine(dir, "a.npz");
        var images = randint(0, 256, new long[] { 2, 4, 4, 3 }).to(ScalarType.Byte);
        var values = randn(3, 5, dtype: ScalarType.Float64);
        Npz.Write(path, new Dictionary<string, Tensor> { ["arr_0"] = images, ["v"] = values });

        using (var zip = ZipFile.OpenRead(path))
        {
            var entry = zip.GetEntry("arr_0.npy")!;
            using var stream = entry.Open();
            var head = new byte[128];
            stream.ReadExactly(head);
            var text = Encoding.Latin1.GetString(head);
            Assert.StartsWith("\u0093NUMPY\u0001\u0000", text);
            Assert.Contains("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 4, 4, 3), }", text);
            Assert.Equal(0, (10 + BitConverter.ToUInt16(head, 8)) % 64);   // data 64-byte aligned as NumPy writes it
        }
        var back = Npz.Read(path);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(images, back["arr_0"]));
        Assert.Equal(0, TensorAssert.MaxAbsDiff(values, back["v"]));
    }

    [Fact]
    public void Compressed_members_are_deflated_and_read_back_exactly()
    {
        var path = Path.Combine(dir, "c.npz");
        var images = arange(0, 4 * 32 * 32 * 3).remainder(7).to(ScalarType.Byte).reshape(4, 32, 32, 3);   // compressible, like real images
        Npz.Write(path, new Dictionary<string, Tensor> { ["arr_0"] = images }, compress: true);

        using (var zip = ZipFile.OpenRead(path))
        {
            var entry = zip.GetEntry("arr_0.npy")!;
            Assert.True(entry.CompressedLength < entry.Length / 2, $"{entry.CompressedLength} of {entry.Length} bytes");
        }
        Assert.Equal(0, TensorAssert.MaxAbsDiff(images, Npz.ReadArray(path, "arr_0")));
    }

    [SkippableFact]
    public void Reads_arrays_numpy_wrote()
    {
        var arrays = Npz.Read(SharedAssets.Require("oracles/metrics.npz"));
        Assert.Equal(new long[] { 600, 64 }, arrays["A"].shape);
        Assert.Equal(35.263634681925, arrays["fid_AB"].item<double>());
    }
}
