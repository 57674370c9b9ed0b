// The program of docs/library.md, compiled and run by LibraryGuideTests: the guide shows the text between the markers.
// begin guide
using Qdm.Diffusion;
using Qdm.Export;
using Qdm.Metrics;
using Qdm.Metrics.ResNet18;
using Qdm.Reconstruction;
using Qdm.Sampling;
using Qdm.Workflows;

public static class QuantizeSampleMeasure
{
    /// <summary>
    /// Quantizes a checkpoint with DI2N at W8A8, saves the compact file, reloads it, samples it through ONNX Runtime
    /// next to the FP model from the same seeds, and returns the FD-R18 between the two sample sets.
    /// </summary>
    public static double Run(string checkpoint, string folder, int images = 1000, int steps = 100, int calibrationSamples = 256)
    {
        // 1. Load. The architecture is read off the checkpoint, and every parameter name and shape is checked.
        var fp = ModelLoader.Load(new ModelLoadOptions(checkpoint));
        var toQuantize = ModelLoader.Load(new ModelLoadOptions(checkpoint));   // quantization wraps this copy's layers

        // 2. Quantize: a method preset, any part of which a `with` expression overrides.
        var method = MethodPresets.For(QuantMethod.Di2n, fp.Config);
        method = method with
        {
            Calibration = method.Calibration with { Samples = calibrationSamples, SamplingSteps = steps },
            Reconstruction = method.Reconstruction with { Iterations = 0 },   // ranges only; 20000 for AdaRound
            BiasCorrection = true,
        };
        var outcome = QuantizationWorkflow.Run(fp, toQuantize, QuantizationJob.From(method, seed: 0), Path.Combine(folder, "work"));

        // 3. Save the compact file; it reloads without the checkpoint or the calibration data.
        var file = Path.Combine(folder, "di2n-w8a8.qdm");
        CompactModelFile.Save(file, outcome.Model, fp.Diffusion, new Dictionary<string, string> { ["source"] = fp.Source });
        var (reloaded, diffusion, _) = CompactModelFile.Load(file);
        var quantized = new DiffusionModel(reloaded.Network, diffusion, file);

        // 4. Sample both from the same seeds (image i starts from the same x_T); the quantized model runs in ONNX Runtime.
        var sampler = DiffusionModel.DefaultSamplerFor(fp.Config.Family, SamplerKind.Ddim, steps);
        var job = new SampleJobConfig { Count = images, BatchSize = 16, Seed = 0, WritePngs = false };
        var fpSamples = SampleJob.Run(fp, sampler, job, Path.Combine(folder, "fp"));
        using var ort = OrtUNet.Open(quantized.Network, threads: 2, cpuHasVnni: CpuDescription.HasVnni() == true);
        var quantizedSamples = SampleJob.Run(quantized, sampler, job, Path.Combine(folder, "di2n"),
            denoiser: (x, t) => ort.Forward(x, t), engine: "onnxruntime");

        // 5. Measure in the ResNet-18 feature space (FD-R18: not FID, which needs the Inception weights).
        using var r18 = new ResNet18FeatureNetwork(ResNet18FeatureNetwork.DefaultModelsFolder, threads: 2);
        var fpFeatures = FeatureSet.Extract(r18, ImageSources.Open(fpSamples.SamplesPath)).Statistics();
        var quantizedFeatures = FeatureSet.Extract(r18, ImageSources.Open(quantizedSamples.SamplesPath)).Statistics();
        return FrechetDistance.Compute(fpFeatures.Pooled, quantizedFeatures.Pooled);
    }
}
// end guide
