using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;
using Qdm.Quant;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Reconstruction;

/// <summary>A reconstruction unit: a module path, and whether it takes (x, embedding).</summary>
public sealed record ReconstructionUnit(string Path, bool Embedded);

public static class ReconstructionUnits
{
    private static readonly Type[] BlockTypes =
    {
        typeof(DdpmResnetBlock), typeof(DdpmAttnBlock), typeof(DdpmDownsample), typeof(DdpmUpsample),
        typeof(IddpmResBlock), typeof(IddpmAttentionBlock), typeof(IddpmDownsample), typeof(IddpmUpsample),
    };

    /// <summary>Units in the order the forward pass reaches them (found by running one small batch through probes).</summary>
    public static IReadOnlyList<ReconstructionUnit> Find(DiffusionUNet network, ReconstructionGranularity granularity, Tensor x, Tensor t)
    {
        var modules = network.named_modules().ToList();
        var blocks = granularity == ReconstructionGranularity.Block
            ? modules.Where(m => BlockTypes.Contains(m.module.GetType())).Select(m => m.name).ToList()
            : new List<string>();
        var layers = modules.Where(m => m.module is QuantLayer && !blocks.Any(b => m.name.StartsWith(b + ".", StringComparison.Ordinal)))
            .Select(m => m.name);
        var candidates = blocks.Concat(layers).ToList();

        var order = new List<string>();
        var originals = new Dictionary<string, Module>();
        foreach (var path in candidates)
        {
            var module = network.ModuleAt(path);
            originals[path] = module;
            Module probe = module switch
            {
                Module<Tensor, Tensor, Tensor> e => new EmbeddedRecorder(e) { OnCall = () => order.Add(path) },
                Module<Tensor, Tensor> p => new TensorRecorder(p) { OnCall = () => order.Add(path) },
                _ => throw new InvalidOperationException($"{path}: cannot reconstruct a {module.GetType().Name}"),
            };
            network.ReplaceAt(path, probe);
        }
        try
        {
            using var _ = no_grad();
            network.call(x, t).Dispose();
        }
        finally
        {
            foreach (var (path, module) in originals) network.ReplaceAt(path, module);
        }
        return order.Distinct().Select(p => new ReconstructionUnit(p, originals[p] is Module<Tensor, Tensor, Tensor>)).ToList();
    }
}
