using System.Collections;
using Qdm.IO;
using Qdm.Models;
using Qdm.Checkpoints;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Tests.Support;
using TorchSharp.PyBridge;
using Safetensors = Qdm.IO.Safetensors;
using static TorchSharp.torch;

namespace Qdm.Tests.Models;

public class CheckpointLoadingTests : TempFolder
{
    internal static readonly DdpmUNetConfig TinyDdpm = new() { Ch = 32, ChMult = new[] { 1, 2 }, NumResBlocks = 1, AttnResolutions = new[] { 8 }, Resolution = 16 };
    internal static readonly IddpmUNetConfig TinyIddpm = new()
    {
        ModelChannels = 32, ChannelMult = new[] { 1, 2 }, NumResBlocks = 1, AttentionDs = new[] { 2 }, NumHeads = 2, ImageSizePixels = 16,
    };

    private static DiffusionUNet Randomised(UNetConfig config, int seed)
    {
        var model = ModelFactory.Create(config);
        var g = new Generator((ulong)seed);
        using var _ = no_grad();
        foreach (var p in model.parameters()) p.copy_(randn(p.shape, generator: g) * 0.1);
        return model;
    }

    private static Tensor Forward(DiffusionUNet model, int channels = 3)
    {
        using var _ = no_grad();
        var x = randn(new long[] { 2, channels, 16, 16 }, generator: new Generator(7));
        return model.call(x, tensor(new float[] { 3, 700 }));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tiny_random_unets_round_trip_through_safetensors(bool iddpm)
    {
        UNetConfig config = iddpm ? TinyIddpm : TinyDdpm;
        var original = Randomised(config, 11);
        var path = Path.Combine(dir, "tiny.safetensors");
        Safetensors.Write(path, original.state_dict());
        var reloaded = ModelFactory.Load(path, config);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(Forward(original), Forward(reloaded)));
        // An independent reader (TorchSharp.PyBridge) sees the same tensors in our file.
        var independent = TorchSharp.PyBridge.Safetensors.LoadStateDict(path);
        foreach (var (name, value) in original.state_dict()) Assert.Equal(0, TensorAssert.MaxAbsDiff(value, independent[name]));
        // The architecture is also recoverable from the file alone.
        Assert.Equal(config, ModelFactory.LoadInferred(path, imageSize: 16, numHeads: iddpm ? 2 : 4).Config);
    }

    [Fact]
    public void Nested_and_prefixed_pytorch_checkpoints_load()
    {
        var original = Randomised(TinyDdpm, 12);
        var prefixed = new Hashtable();
        foreach (var (k, v) in original.state_dict()) prefixed["module." + k] = v;
        var path = Path.Combine(dir, "nested.pt");
        PyTorchPickler.PickleStateDict(path, new Hashtable { ["ema"] = prefixed, ["step"] = 5 });
        var reloaded = ModelFactory.Load(path, TinyDdpm);
        Assert.Equal(0, TensorAssert.MaxAbsDiff(Forward(original), Forward(reloaded)));
        Assert.EndsWith("[ema]", CheckpointReader.Read(path).Source);
    }

    [Fact]
    public void Wrong_shapes_are_rejected_with_missing_unexpected_and_misshaped_keys_listed()
    {
        var path = Path.Combine(dir, "other.safetensors");
        var sd = Randomised(TinyDdpm, 13).state_dict();
        sd["conv_in.weight"] = zeros(64, 3, 3, 3);
        sd.Remove("conv_out.bias");
        sd["extra.weight"] = zeros(1);
        Safetensors.Write(path, sd);
        var error = Assert.Throws<CheckpointMismatchException>(() => ModelFactory.Load(path, TinyDdpm));
        Assert.Contains("conv_in.weight: checkpoint [64,3,3,3] vs model [32,3,3,3]", error.Message);
        Assert.Contains("1 missing key (conv_out.bias)", error.Message);
        Assert.Contains("1 unexpected key (extra.weight)", error.Message);
        Assert.Contains(TinyDdpm.Describe(), error.Message);
    }

    [Fact]
    public void A_checkpoint_of_the_other_family_is_rejected_clearly()
    {
        var path = Path.Combine(dir, "iddpm.safetensors");
        Safetensors.Write(path, Randomised(TinyIddpm, 14).state_dict());
        var error = Assert.Throws<QdmInputException>(() => ModelFactory.LoadInferred(path, UNetFamily.Ddpm));
        Assert.Contains("Iddpm", error.Message);
    }

    [Theory]
    [InlineData("tiny.safetensors")]
    [InlineData("tiny.pt")]
    public void Truncated_files_are_rejected_with_a_clear_error(string name)
    {
        var path = Path.Combine(dir, name);
        var sd = Randomised(TinyDdpm, 15).state_dict();
        if (name.EndsWith(".pt")) PyTorchPickler.PickleStateDict(path, new Hashtable(sd));
        else Safetensors.Write(path, sd);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var error = Assert.ThrowsAny<Exception>(() => ModelFactory.Load(path, TinyDdpm));
        Assert.True(error is InvalidDataException or QdmInputException, error.GetType().Name + ": " + error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Legacy_pickle_checkpoints_get_instructions_to_resave()
    {
        var path = Path.Combine(dir, "legacy.ckpt");
        File.WriteAllBytes(path, new byte[] { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 });
        var error = Assert.Throws<InvalidDataException>(() => CheckpointReader.Read(path));
        Assert.Contains("legacy", error.Message);
        Assert.Contains("torch.save(torch.load(", error.Message);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        var error = Assert.Throws<FileNotFoundException>(() => CheckpointReader.Read(Path.Combine(dir, "nope.ckpt")));
        Assert.Contains("nope.ckpt", error.Message);
    }
}
