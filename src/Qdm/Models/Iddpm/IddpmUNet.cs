using Qdm.Nn;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Qdm.Models.Iddpm;

/// <summary>improved-diffusion `unet.py` `UNetModel` (unconditional), with identical state-dict names.</summary>
public sealed class IddpmUNet : DiffusionUNet
{
    private readonly IddpmUNetConfig config;

    public override UNetConfig Config => config;

    public IddpmUNet(IddpmUNetConfig config) : base(nameof(IddpmUNet))
    {
        this.config = config.Validated();
        if (!config.ConvResample)
            throw new NotSupportedException("improved-diffusion U-Net without conv_resample is not supported (every published checkpoint uses it).");
        int mc = config.ModelChannels, ted = config.TimeEmbedDim;

        var timeEmbed = Add("time_embed", new Part("time_embed"));   // Sequential(linear, SiLU, linear)
        timeEmbed.Add("0", Layers.Dense(mc, ted));
        timeEmbed.Add("2", Layers.Dense(ted, ted));

        var inputs = new List<IddpmSequence> { new(Layers.Conv(config.InChannelsCount, mc, 3, padding: 1)) };
        var skipChannels = new Stack<int>();
        skipChannels.Push(mc);
        int ch = mc, ds = 1;
        for (int level = 0; level < config.ChannelMult.Count; level++)
        {
            for (int i = 0; i < config.NumResBlocks; i++)
            {
                var layers = new List<Module> { new IddpmResBlock(ch, ted, config.ChannelMult[level] * mc, config.UseScaleShiftNorm) };
                ch = config.ChannelMult[level] * mc;
                if (config.AttentionDs.Contains(ds)) layers.Add(new IddpmAttentionBlock(ch, config.NumHeads));
                inputs.Add(new IddpmSequence(layers.ToArray()));
                skipChannels.Push(ch);
            }
            if (level != config.ChannelMult.Count - 1)
            {
                inputs.Add(new IddpmSequence(new IddpmDownsample(ch)));
                skipChannels.Push(ch);
                ds *= 2;
            }
        }
        Add("input_blocks", new IndexedParts<IddpmSequence>("input_blocks", inputs));

        Add("middle_block", new IddpmSequence(
            new IddpmResBlock(ch, ted, ch, config.UseScaleShiftNorm),
            new IddpmAttentionBlock(ch, config.NumHeads),
            new IddpmResBlock(ch, ted, ch, config.UseScaleShiftNorm)));

        var outputs = new List<IddpmSequence>();
        for (int level = config.ChannelMult.Count - 1; level >= 0; level--)
        {
            for (int i = 0; i <= config.NumResBlocks; i++)
            {
                SkipSplits[$"output_blocks.{outputs.Count}.0.skip_connection"] = ch;   // th.cat([h, hs.pop()]): h comes first
                var layers = new List<Module> { new IddpmResBlock(ch + skipChannels.Pop(), ted, mc * config.ChannelMult[level], config.UseScaleShiftNorm) };
                ch = mc * config.ChannelMult[level];
                if (config.AttentionDs.Contains(ds)) layers.Add(new IddpmAttentionBlock(ch, config.HeadsUpsample));
                if (level > 0 && i == config.NumResBlocks) { layers.Add(new IddpmUpsample(ch)); ds /= 2; }
                outputs.Add(new IddpmSequence(layers.ToArray()));
            }
        }
        Add("output_blocks", new IndexedParts<IddpmSequence>("output_blocks", outputs));

        var outLayers = Add("out", new Part("out"));   // Sequential(norm, SiLU, conv)
        outLayers.Add("0", Layers.Norm(ch, IddpmResBlock.NormEps));
        outLayers.Add("2", Layers.Conv(mc, config.OutChannelsCount, 3, padding: 1));
    }

    protected override LayerRole RoleOf(string path) => path switch
    {
        "input_blocks.0.0" => LayerRole.First,
        "out.2" => LayerRole.Last,
        _ when path.StartsWith("time_embed.") => LayerRole.TimeEmbedding,
        _ when path.EndsWith(".emb_layers.1") => LayerRole.TimeProjection,
        _ when path.EndsWith(".skip_connection") => SkipSplits.ContainsKey(path) ? LayerRole.SkipShortcut : LayerRole.Shortcut,
        _ when path.EndsWith(".op") => LayerRole.Downsample,
        _ when path.EndsWith(".conv") => LayerRole.Upsample,
        _ when path.EndsWith(".qkv") => LayerRole.AttentionProjection,
        _ when path.EndsWith(".proj_out") => LayerRole.AttentionOutput,
        _ when path.EndsWith(".in_layers.2") || path.EndsWith(".out_layers.3") => LayerRole.ResidualConv,
        _ => throw new InvalidOperationException($"no role for improved-diffusion layer '{path}'"),
    };

    public override Tensor forward(Tensor x, Tensor t)
    {
        using var scope = NewDisposeScope();
        var timeEmbed = Child<Part>("time_embed");
        var emb = timeEmbed.Layer("2").call(F.silu(timeEmbed.Layer("0").call(TimestepEmbedding.IddpmCosSin(t, config.ModelChannels))));
        var hs = new List<Tensor>();
        var h = x;
        foreach (var block in Child<IndexedParts<IddpmSequence>>("input_blocks").Items)
        {
            h = block.call(h, emb);
            hs.Add(h);
        }
        h = Child<IddpmSequence>("middle_block").call(h, emb);
        foreach (var block in Child<IndexedParts<IddpmSequence>>("output_blocks").Items)
        {
            var skip = hs[^1];
            hs.RemoveAt(hs.Count - 1);
            h = block.call(cat(new[] { h, skip }, 1), emb);
        }
        var outLayers = Child<Part>("out");
        return outLayers.Layer("2").call(F.silu(outLayers.Layer("0").call(h))).MoveToOuterDisposeScope();
    }
}
