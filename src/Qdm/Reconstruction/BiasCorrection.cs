using Qdm.Calibration;
using Qdm.Placement;
using Qdm.Quant;
using static TorchSharp.torch;

namespace Qdm.Reconstruction;

/// <summary>
/// Empirical bias correction of every quantized layer (Nagel et al. 2019, §4.2) on calibration inputs. Why diffusion
/// models need it: a layer's rounded weights give each output channel a fixed offset E[ΔW·x]; in conv_out that is a
/// consistent offset in the predicted noise ε̂, which the sampler integrates over every step into a colour cast of the
/// images (measured in the README), while the far larger but zero-mean activation noise averages out. All layers are
/// measured in one pass over the quantized network (each sees the inputs its quantized predecessors produce), then corrected.
/// </summary>
public static class BiasCorrection
{
    /// <returns>How many layers had a bias to correct.</returns>
    public static int Apply(QuantizedUNet q, CalibrationSet data)
    {
        var layers = q.Network.modules().OfType<QuantLayer>().ToList();
        foreach (var layer in layers) layer.MeasuringWeightBias = true;
        try
        {
            using var _ = no_grad();
            foreach (var (_, x, modelTime) in data.ByTimestep())
                q.Network.call(x, modelTime).Dispose();
        }
        finally
        {
            foreach (var layer in layers) layer.MeasuringWeightBias = false;
        }
        return layers.Count(layer => layer.CorrectBias());
    }
}
