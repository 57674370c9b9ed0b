namespace Qdm.Models.Ddpm;

/// <summary>Config of the DDPM U-Net (ermongroup/ddim `Model`, `configs/cifar10.yml` names).</summary>
public sealed record DdpmUNetConfig : UNetConfig
{
    public int Ch { get; init; } = 128;
    public int OutCh { get; init; } = 3;
    public IReadOnlyList<int> ChMult { get; init; } = new[] { 1, 2, 2, 2 };
    public int NumResBlocks { get; init; } = 2;
    /// <summary>Feature-map sizes (pixels) at which attention blocks are placed.</summary>
    public IReadOnlyList<int> AttnResolutions { get; init; } = new[] { 16 };
    public double Dropout { get; init; } = 0.1;
    public bool ResampWithConv { get; init; } = true;
    public int InChannelsCount { get; init; } = 3;
    public int Resolution { get; init; } = 32;

    public override UNetFamily Family => UNetFamily.Ddpm;
    public override int ImageSize => Resolution;
    public override int InChannels => InChannelsCount;
    public override int OutChannels => OutCh;
    public override string InputConvPath => "conv_in";

    /// <summary>The published CIFAR-10 model of Ho et al. (35.7M parameters).</summary>
    public static DdpmUNetConfig Cifar10 { get; } = new();

    public DdpmUNetConfig Validated()
    {
        Require(Ch > 0 && Ch % 32 == 0, $"DDPM ch must be a positive multiple of 32 (GroupNorm has 32 groups), got {Ch}.");
        Require(ChMult.Count > 0 && ChMult.All(m => m > 0), "DDPM ch_mult must be a non-empty list of positive integers.");
        Require(NumResBlocks > 0, $"DDPM num_res_blocks must be positive, got {NumResBlocks}.");
        Require(Resolution >> (ChMult.Count - 1) > 0, $"resolution {Resolution} is too small for {ChMult.Count} levels.");
        return this;
    }

    public override string Describe() =>
        $"ddpm(ch={Ch}, ch_mult=[{string.Join(",", ChMult)}], num_res_blocks={NumResBlocks}, " +
        $"attn_resolutions=[{string.Join(",", AttnResolutions)}], resolution={Resolution}, in={InChannelsCount}, out={OutCh})";

    public bool Equals(DdpmUNetConfig? other) =>
        other is not null && Describe() == other.Describe() && Dropout == other.Dropout && ResampWithConv == other.ResampWithConv;

    public override int GetHashCode() => Describe().GetHashCode();
}
