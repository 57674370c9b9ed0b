using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using static TorchSharp.torch;

namespace Qdm.Models;

/// <summary>
/// Reads a U-Net config off a state dict's names and shapes, so a checkpoint of any width or depth loads without
/// hand-written settings. What shapes cannot tell (image size; improved-diffusion's head count) comes from the hints.
/// </summary>
public static class ArchitectureInference
{
    public static UNetFamily? DetectFamily(IReadOnlyDictionary<string, Tensor> sd)
    {
        if (sd.ContainsKey("conv_in.weight") && sd.ContainsKey("temb.dense.0.weight")) return UNetFamily.Ddpm;
        if (sd.ContainsKey("input_blocks.0.0.weight") && sd.ContainsKey("time_embed.0.weight")) return UNetFamily.Iddpm;
        return null;
    }

    public static UNetConfig Infer(IReadOnlyDictionary<string, Tensor> sd, UNetFamily family, int imageSize = 32, int numHeads = 4) =>
        family switch
        {
            UNetFamily.Ddpm => InferDdpm(sd, imageSize),
            UNetFamily.Iddpm => InferIddpm(sd, imageSize, numHeads),
            _ => throw new ArgumentOutOfRangeException(nameof(family)),
        };

    public static DdpmUNetConfig InferDdpm(IReadOnlyDictionary<string, Tensor> sd, int imageSize)
    {
        var convIn = Shape(sd, "conv_in.weight");
        int ch = (int)convIn[0];
        int levels = CountIndices(sd, "down.");
        int resBlocks = CountIndices(sd, "down.0.block.");
        var chMult = Enumerable.Range(0, levels)
            .Select(l => (int)Shape(sd, $"down.{l}.block.0.conv1.weight")[0] / ch).ToArray();
        var attn = Enumerable.Range(0, levels)
            .Where(l => sd.ContainsKey($"down.{l}.attn.0.q.weight")).Select(l => imageSize >> l).ToArray();
        return new DdpmUNetConfig
        {
            Ch = ch,
            InChannelsCount = (int)convIn[1],
            OutCh = (int)Shape(sd, "conv_out.weight")[0],
            ChMult = chMult,
            NumResBlocks = resBlocks,
            AttnResolutions = attn,
            Resolution = imageSize,
        };
    }

    public static IddpmUNetConfig InferIddpm(IReadOnlyDictionary<string, Tensor> sd, int imageSize, int numHeads)
    {
        var first = Shape(sd, "input_blocks.0.0.weight");
        int mc = (int)first[0];
        var channelMult = new List<int>();
        var attentionDs = new List<int>();
        int numResBlocks = 0, blocksInLevel = 0, ds = 1;
        bool scaleShift = false;
        for (int k = 1; sd.ContainsKey($"input_blocks.{k}.0.op.weight") || sd.ContainsKey($"input_blocks.{k}.0.in_layers.2.weight"); k++)
        {
            if (sd.ContainsKey($"input_blocks.{k}.0.op.weight"))
            {
                numResBlocks = Math.Max(numResBlocks, blocksInLevel);
                blocksInLevel = 0;
                ds *= 2;
                continue;
            }
            int outCh = (int)Shape(sd, $"input_blocks.{k}.0.in_layers.2.weight")[0];
            if (blocksInLevel == 0) channelMult.Add(outCh / mc);
            blocksInLevel++;
            scaleShift = Shape(sd, $"input_blocks.{k}.0.emb_layers.1.weight")[0] == 2 * outCh;
            if (sd.ContainsKey($"input_blocks.{k}.1.qkv.weight") && !attentionDs.Contains(ds)) attentionDs.Add(ds);
        }
        numResBlocks = Math.Max(numResBlocks, blocksInLevel);
        return new IddpmUNetConfig
        {
            ImageSizePixels = imageSize,
            InChannelsCount = (int)first[1],
            ModelChannels = mc,
            OutChannelsCount = (int)Shape(sd, "out.2.weight")[0],
            NumResBlocks = numResBlocks,
            AttentionDs = attentionDs,
            ChannelMult = channelMult,
            NumHeads = numHeads,
            UseScaleShiftNorm = scaleShift,
        };
    }

    private static long[] Shape(IReadOnlyDictionary<string, Tensor> sd, string key) =>
        sd.TryGetValue(key, out var t) ? t.shape
            : throw new QdmInputException($"state dict lacks '{key}', which this architecture needs.");

    private static int CountIndices(IReadOnlyDictionary<string, Tensor> sd, string prefix) =>
        sd.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => k[prefix.Length..].Split('.')[0])
            .Where(s => int.TryParse(s, out _)).Distinct().Count();
}
