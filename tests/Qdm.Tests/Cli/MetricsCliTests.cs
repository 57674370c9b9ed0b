using Qdm.IO;
using Qdm.Tests.Support;

namespace Qdm.Tests.Cli;

public class MetricsCliTests : TempFolder
{
    [Fact]
    public void Eval_without_inception_weights_says_where_to_get_them()
    {
        var samples = Path.Combine(dir, "s.npz");
        Npz.Write(samples, new Dictionary<string, TorchSharp.torch.Tensor> { ["arr_0"] = TorchSharp.torch.zeros(new long[] { 2, 8, 8, 3 }, TorchSharp.torch.ScalarType.Byte) });
        var stats = Path.Combine(dir, "ref.npz");
        Npz.Write(stats, new Dictionary<string, TorchSharp.torch.Tensor> { ["mu"] = TorchSharp.torch.zeros(3), ["sigma"] = TorchSharp.torch.eye(3) });
        var r = QdmProcess.Run("eval", "--samples", samples, "--ref", stats, "--cache", Path.Combine(dir, "empty-cache"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("pt_inception-2015-12-05-6726825d.pth", r.Stderr);
        Assert.Contains("github.com/mseitzer/pytorch-fid/releases", r.Stderr);
    }

    [SkippableFact]
    public void Stats_then_eval_of_the_same_images_gives_zero_fid()
    {
        var weights = SharedAssets.Require("oracles/inception_fid_random.pth.gz");
        var images = Npz.Read(SharedAssets.Require("oracles/inception_fid_io.npz"))["images_uint8_nhwc"];
        var samples = Path.Combine(dir, "s.npz");
        Npz.Write(samples, new Dictionary<string, TorchSharp.torch.Tensor> { ["arr_0"] = images });
        var stats = Path.Combine(dir, "ref.npz");
        var s = QdmProcess.Run("stats", "--images", samples, "--out", stats, "--inception", weights);
        Assert.True(s.ExitCode == 0, s.Stderr);
        Assert.Contains("inception-v3-fid", Npz.ReadStrings(stats)["network"]);
        var e = QdmProcess.Run("eval", "--samples", samples, "--ref", stats, "--inception", weights);
        Assert.True(e.ExitCode == 0, e.Stderr);
        var fidLine = e.Stdout.Split('\n').First(l => l.Contains("│ FID "));
        var value = double.Parse(fidLine.Split('│', StringSplitOptions.TrimEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(value) < 1e-3, fidLine);
        Assert.Contains("IS (ADM", e.Stdout);
    }
}
