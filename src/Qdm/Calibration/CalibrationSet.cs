using Qdm.IO;
using static TorchSharp.torch;

namespace Qdm.Calibration;

/// <summary>Network inputs for calibration: x_t, the original time step t, and the time value the network is fed.</summary>
public sealed record CalibrationSet(Tensor X, Tensor Timesteps, Tensor ModelTimes)
{
    public long Count => X.shape[0];

    /// <summary>The inputs grouped by time step, in decreasing t (the order sampling visits them).</summary>
    public IEnumerable<(int Timestep, Tensor X, Tensor ModelTime)> ByTimestep(int maxBatch = 64)
    {
        var steps = Timesteps.data<long>().ToArray();
        foreach (var t in steps.Distinct().OrderByDescending(v => v))
        {
            var rows = tensor(Enumerable.Range(0, steps.Length).Where(i => steps[i] == t).Select(i => (long)i).ToArray());
            for (long start = 0; start < rows.shape[0]; start += maxBatch)
            {
                var idx = rows[TensorIndex.Slice(start, Math.Min(start + maxBatch, rows.shape[0]))];
                yield return ((int)t, X.index_select(0, idx), ModelTimes.index_select(0, idx));
            }
        }
    }

    public void Save(string path) => Safetensors.Write(path, new Dictionary<string, Tensor>
    {
        ["x"] = X, ["timesteps"] = Timesteps, ["model_times"] = ModelTimes,
    }, new Dictionary<string, string> { ["format"] = "qdm-calibration-set", ["version"] = "1" });

    public static CalibrationSet Load(string path)
    {
        var content = Safetensors.Read(path);
        if (content.Metadata.GetValueOrDefault("format") != "qdm-calibration-set")
            throw new QdmInputException($"{path} is not a Qdm calibration set.");
        return new CalibrationSet(content.Tensors["x"], content.Tensors["timesteps"], content.Tensors["model_times"]);
    }
}
