using System.Diagnostics;
using Qdm.Calibration;
using Qdm.Models;
using Qdm.Placement;
using Qdm.Quant;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Reconstruction;

/// <summary>What happened to one unit: output error with nearest rounding vs after reconstruction (on its cached batches).</summary>
public sealed record UnitResult(string Path, int Index, int Count, double MseBefore, double MseAfter, double Seconds, bool Resumed);

/// <summary>
/// BRECQ-style reconstruction (Li et al. 2021) unit by unit in forward order: each unit's quantized output is fitted to the FP
/// model's output of that unit by AdaRound (eq. 25: ‖f_q(x_q) − f(x)‖² + λ·Σ(1 − |2h − 1|^β)), optionally learning activation
/// step sizes (LSQ) and dropping activation quantization at random (QDrop). Inputs come from the quantized model so far
/// (earlier units already reconstructed), targets from the FP model.
/// </summary>
public static class Reconstructor
{
    public static IReadOnlyList<UnitResult> Run(QuantizedUNet quantized, DiffusionUNet fp, CalibrationSet data, ReconstructionConfig config,
        string workFolder, IProgress<UnitResult>? progress = null, Action<int, int>? onIteration = null, CancellationToken cancel = default)
    {
        config.Validated();
        Directory.CreateDirectory(workFolder);
        foreach (var p in quantized.Network.parameters()) p.requires_grad = false;
        foreach (var p in fp.parameters()) p.requires_grad = false;

        var probe = data.ByTimestep(2).First();
        var units = ReconstructionUnits.Find(quantized.Network, config.Granularity, probe.X, probe.ModelTime);
        string fingerprint = $"{quantized.Config.Describe()} | {config.Describe()} | {data.Count} samples | units {units.Count}";
        var statePath = Path.Combine(workFolder, "state.safetensors");
        var finished = (File.Exists(statePath) ? QuantState.Load(quantized, statePath, fingerprint) : null)?.ToList() ?? new List<string>();

        var results = new List<UnitResult>();
        var random = new Random((int)(config.Seed & 0x7fffffff));
        for (int i = 0; i < units.Count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var unit = units[i];
            if (finished.Contains(unit.Path))
            {
                var skipped = new UnitResult(unit.Path, i, units.Count, double.NaN, double.NaN, 0, Resumed: true);
                results.Add(skipped);
                progress?.Report(skipped);
                continue;
            }
            var clock = Stopwatch.StartNew();
            using var cache = new UnitCache(Path.Combine(workFolder, "cache"), config.MaxCacheBytes);
            Capture(quantized.Network, fp, unit, data, config.BatchSize, cache);
            var module = quantized.Network.ModuleAt(unit.Path);
            double before = Evaluate(module, unit, cache);
            if (config.Iterations > 0) Optimise(module, unit, cache, config, random, onIteration);
            double after = Evaluate(module, unit, cache);
            finished.Add(unit.Path);
            QuantState.Save(quantized, statePath, finished, fingerprint);
            Nn.NativeHeap.Trim();
            var result = new UnitResult(unit.Path, i, units.Count, before, after, clock.Elapsed.TotalSeconds, Resumed: false);
            results.Add(result);
            progress?.Report(result);
        }
        return results;
    }

    /// <summary>Records the unit's FP input/output (FP model) and quantized input (quantized model so far), batch by batch.</summary>
    private static void Capture(DiffusionUNet quantized, DiffusionUNet fp, ReconstructionUnit unit, CalibrationSet data, int batch, UnitCache cache)
    {
        var fpRecorder = Install(fp, unit, recordOutput: true);
        var qRecorder = Install(quantized, unit, recordOutput: false);
        try
        {
            using var _ = no_grad();
            foreach (var (_, x, t) in data.ByTimestep(batch))
            {
                RunUntilStop(fp, x, t);
                RunUntilStop(quantized, x, t);
                var entry = new Dictionary<string, Tensor> { ["x_fp"] = fpRecorder.Input!, ["x_q"] = qRecorder.Input!, ["y"] = fpRecorder.Output! };
                if (unit.Embedded) { entry["emb_fp"] = fpRecorder.Embedding!; entry["emb_q"] = qRecorder.Embedding!; }
                cache.Add(entry);
            }
        }
        finally
        {
            Uninstall(fp, unit, fpRecorder);
            Uninstall(quantized, unit, qRecorder);
        }
    }

    private static IUnitRecorder Install(DiffusionUNet network, ReconstructionUnit unit, bool recordOutput)
    {
        IUnitRecorder recorder = network.ModuleAt(unit.Path) switch
        {
            Module<Tensor, Tensor, Tensor> e => new EmbeddedRecorder(e) { StopAfter = true, RecordOutput = recordOutput },
            Module<Tensor, Tensor> p => new TensorRecorder(p) { StopAfter = true, RecordOutput = recordOutput },
            var other => throw new InvalidOperationException($"{unit.Path}: cannot record a {other.GetType().Name}"),
        };
        network.ReplaceAt(unit.Path, (Module)recorder);
        return recorder;
    }

    private static void Uninstall(DiffusionUNet network, ReconstructionUnit unit, IUnitRecorder recorder) =>
        network.ReplaceAt(unit.Path, recorder switch
        {
            EmbeddedRecorder e => e.Inner,
            TensorRecorder p => (Module)p.Inner,
            _ => throw new InvalidOperationException(),
        });

    private static void RunUntilStop(DiffusionUNet network, Tensor x, Tensor t)
    {
        try { network.call(x, t).Dispose(); }
        catch (StopForward) { }
    }

    private static Tensor Apply(Module module, ReconstructionUnit unit, Tensor x, Tensor? emb) => unit.Embedded
        ? ((Module<Tensor, Tensor, Tensor>)module).call(x, emb!)
        : ((Module<Tensor, Tensor>)module).call(x);

    /// <summary>BRECQ's lp_loss with p = 2: squared error summed over channels, averaged over the rest.</summary>
    private static Tensor ReconstructionLoss(Tensor output, Tensor target) => (output - target).square().sum(1).mean();

    /// <summary>Mean squared output error of the unit on its cached batches (quantized inputs, FP targets).</summary>
    private static double Evaluate(Module module, ReconstructionUnit unit, UnitCache cache)
    {
        using var _ = no_grad();
        double total = 0;
        long count = 0;
        for (int b = 0; b < cache.Count; b++)
        {
            using var scope = NewDisposeScope();
            var batch = cache.Get(b);
            var y = Apply(module, unit, batch["x_q"], batch.GetValueOrDefault("emb_q"));
            total += (y - batch["y"]).square().sum().item<float>();
            count += y.numel();
        }
        return total / Math.Max(1, count);
    }

    private static void Optimise(Module module, ReconstructionUnit unit, UnitCache cache, ReconstructionConfig config, Random random,
        Action<int, int>? onIteration)
    {
        var layers = module is QuantLayer single ? new List<QuantLayer> { single } : module.modules().OfType<QuantLayer>().ToList();
        var rounding = layers.SelectMany(l => l.StartAdaRound()).ToList();
        var weightQuantizers = layers.SelectMany(l => l.WeightQuantizers).ToHashSet();
        var activations = module.modules().OfType<UniformQuantizer>()
            .Where(q => !weightQuantizers.Contains(q) && q.IsCalibrated && q.Enabled && !q.Spec.PassThrough).ToList();
        foreach (var a in activations) a.DropProbability = config.DropProbability;

        bool learnSteps = config.ActivationLearningRate is not null && activations.Count > 0;
        if (rounding.Count == 0 && !learnSteps) return;   // nothing quantized in this unit (e.g. attention Conv1d under ptq4dm)
        var weightOptimiser = rounding.Count > 0 ? optim.Adam(rounding.Select(r => r.V).ToList(), config.WeightLearningRate) : null;
        var steps = learnSteps ? activations.Select(a => a.EnableStepLearning()).ToList() : null;
        var stepOptimiser = steps is null ? null : optim.Adam(steps, config.ActivationLearningRate!.Value);

        module.train();
        try
        {
            for (int step = 0; step < config.Iterations; step++)
            {
                using var scope = NewDisposeScope();
                var batch = cache.Get(random.Next(cache.Count));
                var xq = batch["x_q"];
                // QDrop also drops at the unit input: each element comes from the FP or the quantized model.
                var x = config.DropProbability > 0 ? where(rand_like(xq) < config.DropProbability, batch["x_fp"], xq) : xq;
                var output = Apply(module, unit, x, batch.GetValueOrDefault("emb_q"));
                var loss = ReconstructionLoss(output, batch["y"]);
                double beta = config.Beta(step, config.Iterations);
                if (step >= config.WarmUp * config.Iterations && rounding.Count > 0)
                    loss = loss + config.RoundingWeight * rounding.Select(r => r.Regulariser(beta)).Aggregate((a, b) => a + b);
                weightOptimiser?.zero_grad();
                stepOptimiser?.zero_grad();
                loss.backward();
                weightOptimiser?.step();
                stepOptimiser?.step();
                if (steps is not null)
                    using (no_grad()) foreach (var s in steps) s.clamp_(min: 1e-8);   // a step size must stay positive
                onIteration?.Invoke(step + 1, config.Iterations);
            }
        }
        finally
        {
            module.eval();
            foreach (var r in rounding) r.Hard = true;
            foreach (var a in activations) a.DropProbability = 0;
            if (steps is not null) foreach (var s in steps) s.requires_grad = false;
        }
    }
}
