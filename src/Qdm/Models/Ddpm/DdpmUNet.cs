using Qdm.Nn;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Ddpm;

/// <summary>Ho et al.'s DDPM U-Net as in ermongroup/ddim `models/diffusion.py` (`Model`), with identical state-dict names.</summary>
public sealed class DdpmUNet : DiffusionUNet
{
    internal const double NormEps = 1e-6;
    private readonly DdpmUNetConfig config;

    public override UNetConfig Config => config;

    public DdpmUNet(DdpmUNetConfig config) : base(nameof(DdpmUNet))
    {
        this.config = config.Validated();
        if (!config.ResampWithConv)
            throw new NotSupportedException("DDPM U-Net without resamp_with_conv is not supported (every published checkpoint uses it).");
        int ch = config.Ch, tembCh = 4 * ch, levels = config.ChMult.Count;
        var inChMult = new[] { 1 }.Concat(config.ChMult).ToArray();

        var temb = Add("temb", new Part("temb"));
        temb.Add("dense", new IndexedParts<nn.Module<Tensor, Tensor>>("dense", new[] { Layers.Dense(ch, tembCh), Layers.Dense(tembCh, tembCh) }));
        Add("conv_in", Layers.Conv(config.InChannelsCount, ch, 3, padding: 1));

        var down = new List<DdpmLevel>();
        int resolution = config.Resolution, blockIn = ch;
        for (int level = 0; level < levels; level++)
        {
            blockIn = ch * inChMult[level];
            int blockOut = ch * config.ChMult[level];
            var blocks = new List<DdpmResnetBlock>();
            var attns = new List<DdpmAttnBlock>();
            for (int i = 0; i < config.NumResBlocks; i++)
            {
                blocks.Add(new DdpmResnetBlock(blockIn, blockOut, tembCh));
                blockIn = blockOut;
                if (config.AttnResolutions.Contains(resolution)) attns.Add(new DdpmAttnBlock(blockIn));
            }
            var level_ = new DdpmLevel(blocks, attns);
            if (level != levels - 1) { level_.Add("downsample", new DdpmDownsample(blockIn)); resolution /= 2; }
            down.Add(level_);
        }
        Add("down", new IndexedParts<DdpmLevel>("down", down));

        Add("mid", new DdpmMiddle(blockIn, tembCh));

        var up = new DdpmLevel[levels];
        for (int level = levels - 1; level >= 0; level--)
        {
            int blockOut = ch * config.ChMult[level], skipIn = ch * config.ChMult[level];
            var blocks = new List<DdpmResnetBlock>();
            var attns = new List<DdpmAttnBlock>();
            for (int i = 0; i <= config.NumResBlocks; i++)
            {
                if (i == config.NumResBlocks) skipIn = ch * inChMult[level];
                SkipSplits[$"up.{level}.block.{i}.nin_shortcut"] = blockIn;   // cat([h, skip]): h comes first
                blocks.Add(new DdpmResnetBlock(blockIn + skipIn, blockOut, tembCh));
                blockIn = blockOut;
                if (config.AttnResolutions.Contains(resolution)) attns.Add(new DdpmAttnBlock(blockIn));
            }
            up[level] = new DdpmLevel(blocks, attns);
            if (level != 0) { up[level].Add("upsample", new DdpmUpsample(blockIn)); resolution *= 2; }
        }
        Add("up", new IndexedParts<DdpmLevel>("up", up));

        Add("norm_out", Layers.Norm(blockIn, NormEps));
        Add("conv_out", Layers.Conv(blockIn, config.OutCh, 3, padding: 1));
    }

    protected override LayerRole RoleOf(string path) => path switch
    {
        "conv_in" => LayerRole.First,
        "conv_out" => LayerRole.Last,
        _ when path.StartsWith("temb.dense.") => LayerRole.TimeEmbedding,
        _ when path.EndsWith(".temb_proj") => LayerRole.TimeProjection,
        _ when path.EndsWith(".nin_shortcut") => SkipSplits.ContainsKey(path) ? LayerRole.SkipShortcut : LayerRole.Shortcut,
        _ when path.EndsWith(".downsample.conv") => LayerRole.Downsample,
        _ when path.EndsWith(".upsample.conv") => LayerRole.Upsample,
        _ when path.EndsWith(".proj_out") => LayerRole.AttentionOutput,
        _ when path.EndsWith(".q") || path.EndsWith(".k") || path.EndsWith(".v") => LayerRole.AttentionProjection,
        _ when path.EndsWith(".conv1") || path.EndsWith(".conv2") => LayerRole.ResidualConv,
        _ => throw new InvalidOperationException($"no role for DDPM layer '{path}'"),
    };

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        // Time embedding: dense.0 → swish → dense.1 (blocks apply swish again before temb_proj).
        var dense = Child<Part>("temb").Child<IndexedParts<nn.Module<Tensor, Tensor>>>("dense");
        var emb = dense[1].call(F.silu(dense[0].call(TimestepEmbedding.DdpmSinCos(t, config.Ch))));

        var hs = new List<Tensor> { Layer("conv_in").call(x) };
        foreach (var level in Child<IndexedParts<DdpmLevel>>("down").Items)
        {
            for (int i = 0; i < level.Blocks.Count; i++)
            {
                var h = level.Blocks[i].call(hs[^1], emb);
                if (level.Attns.Count > 0) h = level.Attns[i].call(h);
                hs.Add(h);
            }
            if (level.Has("downsample")) hs.Add(level.Layer("downsample").call(hs[^1]));
        }

        var hUp = Child<DdpmMiddle>("mid").call(hs[^1], emb);

        var up = Child<IndexedParts<DdpmLevel>>("up");
        for (int l = up.Count - 1; l >= 0; l--)
        {
            var level = up[l];
            for (int i = 0; i < level.Blocks.Count; i++)
            {
                var skip = hs[^1];
                hs.RemoveAt(hs.Count - 1);
                hUp = level.Blocks[i].call(cat(new[] { hUp, skip }, 1), emb);
                if (level.Attns.Count > 0) hUp = level.Attns[i].call(hUp);
            }
            if (level.Has("upsample")) hUp = level.Layer("upsample").call(hUp);
        }

        return Layer("conv_out").call(F.silu(Layer("norm_out").call(hUp))).MoveToOuterDisposeScope();
    }
}

/// <summary>One resolution level, `down.{i}` or `up.{i}`: `block`, `attn` and an optional `downsample`/`upsample`.</summary>
public sealed class DdpmLevel : Part
{
    // Typed by signature, not class: a block can be swapped for a wrapper (reconstruction records its inputs).
    public IndexedParts<nn.Module<Tensor, Tensor, Tensor>> Blocks => Child<IndexedParts<nn.Module<Tensor, Tensor, Tensor>>>("block");
    public IndexedParts<nn.Module<Tensor, Tensor>> Attns => Child<IndexedParts<nn.Module<Tensor, Tensor>>>("attn");

    public DdpmLevel(List<DdpmResnetBlock> blocks, List<DdpmAttnBlock> attns) : base(nameof(DdpmLevel))
    {
        Add("block", new IndexedParts<nn.Module<Tensor, Tensor, Tensor>>("block", blocks));
        Add("attn", new IndexedParts<nn.Module<Tensor, Tensor>>("attn", attns));
    }
}

/// <summary>`mid`: block_1 → attn_1 → block_2.</summary>
public sealed class DdpmMiddle : EmbeddedPart
{
    public DdpmMiddle(int channels, int tembChannels) : base(nameof(DdpmMiddle))
    {
        Add("block_1", new DdpmResnetBlock(channels, channels, tembChannels));
        Add("attn_1", new DdpmAttnBlock(channels));
        Add("block_2", new DdpmResnetBlock(channels, channels, tembChannels));
    }

    public override Tensor forward(Tensor x, Tensor temb)
    {
        using var scope = NewDisposeScope();
        var h = Child<nn.Module<Tensor, Tensor, Tensor>>("block_1").call(x, temb);
        h = Layer("attn_1").call(h);
        return Child<nn.Module<Tensor, Tensor, Tensor>>("block_2").call(h, temb).MoveToOuterDisposeScope();
    }
}
