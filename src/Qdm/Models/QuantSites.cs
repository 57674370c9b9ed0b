namespace Qdm.Models;

/// <summary>What a convolution or linear layer does in the U-Net; placements decide from this which tensors to quantize.</summary>
public enum LayerRole
{
    /// <summary>The first conv (conv_in, input_blocks.0.0): consumes the noisy image.</summary>
    First,
    /// <summary>The last conv (conv_out, out.2): produces ε (and the variance values).</summary>
    Last,
    /// <summary>The time-embedding MLP (temb.dense.*, time_embed.*): dense.1 / time_embed.2 consume SiLU outputs.</summary>
    TimeEmbedding,
    /// <summary>A ResBlock's projection of SiLU(embedding) (temb_proj, emb_layers.1).</summary>
    TimeProjection,
    /// <summary>A ResBlock's 3×3 convolutions (consume SiLU(GroupNorm(·))).</summary>
    ResidualConv,
    /// <summary>A 1×1 shortcut conv in the encoder / middle (consumes the block input; no activation before it).</summary>
    Shortcut,
    /// <summary>A decoder shortcut consuming the skip concat [h, skip]: split quantizers apply (Q-Diffusion).</summary>
    SkipShortcut,
    Downsample,
    Upsample,
    /// <summary>Attention q, k, v (or qkv) projections (consume GroupNorm output).</summary>
    AttentionProjection,
    /// <summary>Attention output projection (proj_out).</summary>
    AttentionOutput,
}

/// <summary>Activation slots inside blocks (<see cref="Nn.Slot"/>).</summary>
public enum SlotRole
{
    /// <summary>Q in Q·Kᵀ.</summary>
    AttentionQuery,
    /// <summary>K in Q·Kᵀ.</summary>
    AttentionKey,
    /// <summary>The softmax output, the left operand of the second attention matmul.</summary>
    AttentionWeights,
    /// <summary>V, the right operand of the second attention matmul.</summary>
    AttentionValue,
    /// <summary>A scale-shift ResBlock's embedding projection output [scale | shift] (DI2N's split time embedding).</summary>
    TimeEmbeddingOutput,
}

public sealed record LayerSite(string Path, LayerRole Role, int? SkipSplit = null);

public sealed record SlotSite(string Path, SlotRole Role);
