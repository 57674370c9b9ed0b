using Qdm.IO;
using Qdm.Tests.Support;

namespace Qdm.Tests.Cli;

public class CliTests : TempFolder
{
    [Fact]
    public void Missing_model_file_is_one_clear_line_and_exit_code_2()
    {
        var r = QdmProcess.Run("sample", "--model", Path.Combine(dir, "absent.ckpt"), "--out", dir);
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("absent.ckpt", line);
    }

    [Fact]
    public void Unknown_option_and_unknown_architecture_fail_with_nonzero_exit()
    {
        Assert.NotEqual(0, QdmProcess.Run("sample", "--out", dir, "--frobnicate").ExitCode);
        var r = QdmProcess.Run("info", "--arch", "resnet");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("unknown --arch 'resnet'", r.Stderr + r.Stdout);
    }

    [Fact]
    public void Reproduce_names_an_unknown_only_key_in_one_line_before_computing_anything()
    {
        var r = QdmProcess.Run("reproduce", "--only", "fp,di2n-w8a8-s7", "--out", Path.Combine(dir, "run"));
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--only: no computation 'di2n-w8a8-s7' in this plan; expected some of fp, ptq4dm-w8a8-s0", line);
        Assert.False(Directory.Exists(Path.Combine(dir, "run", "samples")));
    }

    [Fact]
    public void A_file_that_is_not_a_checkpoint_is_rejected_clearly()
    {
        var path = Path.Combine(dir, "notes.ckpt");
        File.WriteAllText(path, "hello, this is not a checkpoint");
        var r = QdmProcess.Run("info", "--model", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("neither a safetensors file nor a PyTorch zip checkpoint", r.Stderr);
    }

    [Fact]
    public void Sample_with_the_builtin_model_writes_npz_pngs_and_grid()
    {
        var outDir = Path.Combine(dir, "samples");
        var r = QdmProcess.Run("sample", "--n", "3", "--batch", "3", "--steps", "2", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Equal(new long[] { 3, 32, 32, 3 }, Npz.ReadArray(Path.Combine(outDir, "samples.npz"), "arr_0").shape);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(outDir, "png"), "*.png").Length);
        Assert.True(File.Exists(Path.Combine(outDir, "grid.png")));
        Assert.Contains("images/s", r.Stdout);
    }

    [SkippableFact]
    public void Sharded_runs_merge_into_the_unsharded_result()
    {
        var model = SharedAssets.Require("models/ddpm_cifar10_ch32_ema.ckpt");
        string[] Common(string outDir) => new[] { "sample", "--model", model, "--n", "4", "--batch", "2", "--steps", "3", "--no-png", "--out", outDir };
        Assert.Equal(0, QdmProcess.Run(Common(Path.Combine(dir, "all"))).ExitCode);
        Assert.Equal(0, QdmProcess.Run(Common(Path.Combine(dir, "a")).Append("--shard").Append("0/2").ToArray()).ExitCode);
        Assert.Equal(0, QdmProcess.Run(Common(Path.Combine(dir, "b")).Append("--shard").Append("1/2").ToArray()).ExitCode);
        var merged = Path.Combine(dir, "merged.npz");
        var r = QdmProcess.Run("merge", Path.Combine(dir, "a"), Path.Combine(dir, "b"), "--out", merged);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(TensorAssert.MaxAbsDiff(Npz.ReadArray(Path.Combine(dir, "all", "samples.npz"), "arr_0"), Npz.ReadArray(merged, "arr_0")) <= 1);
    }
}
