namespace Qdm.Models.Iddpm;

/// <summary>Config of improved-diffusion's `UNetModel` (names as in `script_util.create_model`).</summary>
public sealed record IddpmUNetConfig : UNetConfig
{
    public int ImageSizePixels { get; init; } = 32;
    public int InChannelsCount { get; init; } = 3;
    public int ModelChannels { get; init; } = 128;
    /// <summary>3 for ε only; 6 with learn_sigma (ε and the variance interpolation values).</summary>
    public int OutChannelsCount { get; init; } = 6;
    public int NumResBlocks { get; init; } = 3;
    /// <summary>Downsampling factors (ds = 1, 2, 4, ...) at which attention blocks are placed, e.g. {2, 4} for "16,8" at 32×32.</summary>
    public IReadOnlyList<int> AttentionDs { get; init; } = new[] { 2, 4 };
    public double Dropout { get; init; } = 0.3;
    public IReadOnlyList<int> ChannelMult { get; init; } = new[] { 1, 2, 2, 2 };
    public int NumHeads { get; init; } = 4;
    /// <summary>-1 means "same as NumHeads", as in the reference.</summary>
    public int NumHeadsUpsample { get; init; } = -1;
    public bool UseScaleShiftNorm { get; init; } = true;
    public bool ConvResample { get; init; } = true;

    public override UNetFamily Family => UNetFamily.Iddpm;
    public override int ImageSize => ImageSizePixels;
    public override int InChannels => InChannelsCount;
    public override string InputConvPath => "input_blocks.0.0";
    public override int OutChannels => OutChannelsCount;
    public int TimeEmbedDim => 4 * ModelChannels;
    public int HeadsUpsample => NumHeadsUpsample == -1 ? NumHeads : NumHeadsUpsample;

    /// <summary>`attention_resolutions` as the reference's flag gives them ("16,8"), converted to ds factors.</summary>
    public static IReadOnlyList<int> DsFromResolutions(int imageSize, params int[] resolutions) =>
        resolutions.Select(r => imageSize / r).ToArray();

    /// <summary>cifar10_uncond_50M_500K.pt: 128 channels, 3 res blocks, learn_sigma, dropout 0.3 (52.5M parameters).</summary>
    public static IddpmUNetConfig Cifar10Uncond { get; } = new();

    /// <summary>imagenet64_uncond_100M_1500K.pt: image 64, channel_mult (1,2,3,4), dropout 0 (121M parameters).</summary>
    public static IddpmUNetConfig ImageNet64Uncond { get; } = new()
    {
        ImageSizePixels = 64,
        ChannelMult = new[] { 1, 2, 3, 4 },
        AttentionDs = DsFromResolutions(64, 16, 8),
        Dropout = 0.0,
    };

    public IddpmUNetConfig Validated()
    {
        Require(ModelChannels > 0 && ModelChannels % 32 == 0, $"model_channels must be a positive multiple of 32 (GroupNorm32), got {ModelChannels}.");
        Require(ChannelMult.Count > 0 && ChannelMult.All(m => m > 0), "channel_mult must be a non-empty list of positive integers.");
        Require(NumResBlocks > 0, $"num_res_blocks must be positive, got {NumResBlocks}.");
        Require(NumHeads > 0, $"num_heads must be positive, got {NumHeads}.");
        Require(OutChannelsCount == InChannelsCount || OutChannelsCount == 2 * InChannelsCount,
            $"out_channels must be in_channels or 2×in_channels (learn_sigma), got {OutChannelsCount}.");
        return this;
    }

    public override string Describe() =>
        $"iddpm(model_channels={ModelChannels}, channel_mult=[{string.Join(",", ChannelMult)}], num_res_blocks={NumResBlocks}, " +
        $"attention_ds=[{string.Join(",", AttentionDs)}], num_heads={NumHeads}, scale_shift_norm={UseScaleShiftNorm}, " +
        $"image_size={ImageSizePixels}, in={InChannelsCount}, out={OutChannelsCount})";

    public bool Equals(IddpmUNetConfig? other) =>
        other is not null && Describe() == other.Describe() && Dropout == other.Dropout &&
        HeadsUpsample == other.HeadsUpsample && ConvResample == other.ConvResample;

    public override int GetHashCode() => Describe().GetHashCode();
}
