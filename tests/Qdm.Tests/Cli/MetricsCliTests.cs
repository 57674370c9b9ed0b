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
        Assert.False(Directory.Exists(stats + ".parts"), "the feature parts are removed once the statistics are written");
        var parts = Path.Combine(dir, "eval-parts");
        var e = QdmProcess.Run("eval", "--samples", samples, "--ref", stats, "--inception", weights, "--parts", parts);
        Assert.True(e.ExitCode == 0, e.Stderr);
        Assert.False(Directory.Exists(parts));
        var fidLine = e.Stdout.Split('\n').First(l => l.Contains("│ FID "));
        var value = double.Parse(fidLine.Split('│', StringSplitOptions.TrimEntries)[2], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Math.Abs(value) < 1e-3, fidLine);
        Assert.Contains("IS (ADM", e.Stdout);
    }

    [Fact]
    public void Paired_refuses_sets_of_different_sizes_and_pairs_their_first_N_with_limit()
    {
        using var _ = TorchSharp.torch.NewDisposeScope();
        var g = new TorchSharp.torch.Generator(3);
        var a = TorchSharp.torch.randn(new long[] { 40, 4 }, TorchSharp.torch.ScalarType.Float64, generator: g);
        var b = 1.3 * a[..30] + 0.2 * TorchSharp.torch.randn(new long[] { 30, 4 }, TorchSharp.torch.ScalarType.Float64, generator: g);
        var reference = new Qdm.Metrics.GaussianStatistics(TorchSharp.torch.zeros(4, TorchSharp.torch.ScalarType.Float64), TorchSharp.torch.eye(4, dtype: TorchSharp.torch.ScalarType.Float64), 1000);
        string Save(string name, TorchSharp.torch.Tensor features)
        {
            var path = Path.Combine(dir, name);
            new Qdm.Metrics.ReferenceStatistics("resnet18", Qdm.Metrics.GaussianStatistics.FromFeatures(features), null, features).Save(path);
            return path;
        }
        string pathA = Save("a.npz", a), pathB = Save("b.npz", b), pathRef = Path.Combine(dir, "ref.npz");
        new Qdm.Metrics.ReferenceStatistics("resnet18", reference, null).Save(pathRef);

        var refused = QdmProcess.Run("paired", pathA, pathB, "--ref", pathRef);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("40 and 30 images", refused.Stderr);
        Assert.Contains("--limit", refused.Stderr);

        var r = QdmProcess.Run("paired", pathA, pathB, "--ref", pathRef, "--limit", "30", "--bootstrap", "10");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        double Fd(TorchSharp.torch.Tensor x) => Qdm.Metrics.FrechetDistance.Compute(Qdm.Metrics.GaussianStatistics.FromFeatures(x), reference);
        var printed = r.Stdout.Split('\n').Single(l => l.Contains("gap A − B")).Split('│', StringSplitOptions.TrimEntries)[2];
        // The files hold float32 features; the printed gap has three decimals.
        double expected = Fd(a[..30].to(TorchSharp.torch.ScalarType.Float32).to(TorchSharp.torch.ScalarType.Float64)) - Fd(b.to(TorchSharp.torch.ScalarType.Float32).to(TorchSharp.torch.ScalarType.Float64));
        Assert.InRange(double.Parse(printed, System.Globalization.CultureInfo.InvariantCulture) - expected, -2e-3, 2e-3);
    }
}
