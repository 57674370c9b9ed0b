namespace Qdm.Models;

/// <summary>The two U-Net families Qdm loads with their original parameter names.</summary>
public enum UNetFamily
{
    /// <summary>Ho et al.'s DDPM U-Net as ported by ermongroup/ddim (temb.dense, down.i.block.j, ...).</summary>
    Ddpm,
    /// <summary>openai/improved-diffusion UNetModel (time_embed, input_blocks, middle_block, output_blocks, out).</summary>
    Iddpm,
}

/// <summary>Architecture hyper-parameters of a U-Net; each family has its own record.</summary>
public abstract record UNetConfig
{
    public abstract UNetFamily Family { get; }
    public abstract int ImageSize { get; }
    public abstract int InChannels { get; }
    /// <summary>Channels the network outputs: InChannels, or 2×InChannels when it also predicts the variance.</summary>
    public abstract int OutChannels { get; }
    public bool LearnsVariance => OutChannels == 2 * InChannels;
    /// <summary>Module path of the first conv, the one layer that consumes the noisy image x_t (conv_in, input_blocks.0.0).</summary>
    public abstract string InputConvPath { get; }

    /// <summary>One line for logs and error messages.</summary>
    public abstract string Describe();

    protected static void Require(bool condition, string message)
    {
        if (!condition) throw new ArgumentException(message);
    }
}
