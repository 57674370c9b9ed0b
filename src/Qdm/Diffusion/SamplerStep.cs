using static TorchSharp.torch;

namespace Qdm.Diffusion;

/// <summary>
/// What a sampler reports at each step: the network input x_t at original time step t, the raw network output and x̂₀.
/// The tensors are only valid during the callback; clone what you keep. This is how calibration data is collected.
/// </summary>
public sealed record SamplerStep(int Index, int Count, int Timestep, float ModelTime, Tensor X, Tensor ModelOutput, Tensor PredX0);

/// <summary>The network as samplers see it: raw output = model(x_t, time fed to the network).</summary>
public delegate Tensor Denoiser(Tensor x, Tensor modelTime);
