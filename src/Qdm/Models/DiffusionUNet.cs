using Qdm.Nn;
using static TorchSharp.torch;

namespace Qdm.Models;

/// <summary>
/// The one contract every model follows: output = model(x, t), where t is the time step the network itself is fed
/// (the real DDPM index for ddim models; t·1000/T for improved-diffusion with rescaled time steps).
/// The output has OutChannels channels: ε, or ε followed by the variance interpolation values.
/// </summary>
public abstract class DiffusionUNet : EmbeddedPart
{
    protected DiffusionUNet(string name) : base(name) { }

    public abstract UNetConfig Config { get; }
}
