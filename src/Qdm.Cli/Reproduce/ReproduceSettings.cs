using Qdm.Workflows;

namespace Qdm.Cli.Reproduce;

/// <summary>Everything `qdm reproduce` was asked for.</summary>
public sealed record ReproduceSettings
{
    public required string OutDir { get; init; }
    public required ReproductionScale Scale { get; init; }
    /// <summary>"ort" (ONNX Runtime for FP32 and every quantized row) or "torchsharp" (eager FP32 / simulated quantization).</summary>
    public string Backend { get; init; } = "ort";
    public int Threads { get; init; } = Environment.ProcessorCount;
    /// <summary>Batches sampled at once and threads for each (quantization and metrics use all Threads).</summary>
    public SamplingWorkers Sampling { get; init; } = new(1, Environment.ProcessorCount);
    public int Batch { get; init; } = 16;
    /// <summary>Trajectories for the ORT-vs-simulated agreement check of each quantized row.</summary>
    public int AgreementImages { get; init; } = 2;
    /// <summary>ResNet-18 reference statistics (qdm stats --features r18), or images to compute them from (cached in OUT).</summary>
    public string? ReferenceR18 { get; init; }
    public string? ReferenceImages { get; init; }
    public long? ReferenceLimit { get; init; }
    /// <summary>FID Inception weights; with them every set is also measured with IS / FID / sFID.</summary>
    public string? InceptionWeights { get; init; }
    public string? ReferenceInception { get; init; }
    /// <summary>Compute only these computations (plan keys; FP always), e.g. the W8A8 rows of one seed at a large scale.</summary>
    public IReadOnlyList<string>? Only { get; init; }
    /// <summary>Write report.md from what earlier runs finished, computing nothing new but the metrics of finished sample sets.</summary>
    public bool ReportOnly { get; init; }
    /// <summary>Paired-bootstrap replicates per row for the sampling noise of gaps between rows (0 = none).</summary>
    public int BootstrapReplicates { get; init; } = 100;
    public string R18Models { get; init; } = Metrics.ResNet18.ResNet18FeatureNetwork.DefaultModelsFolder;
}
