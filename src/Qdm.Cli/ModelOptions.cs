using System.CommandLine;
using Qdm.Diffusion;
using Qdm.Sampling;

namespace Qdm.Cli;

/// <summary>Options every command that loads a model shares, and the built-in default model.</summary>
public sealed class ModelOptions
{
    public const string BuiltInFile = "ddpm_cifar10_ch64_ema.fp16.safetensors";

    public Option<string?> Model { get; } = new("--model")
    {
        Description = "Checkpoint (.safetensors, .pt, .ckpt, .pth, .bin; sample and export also take a quantized .qdm). Default: the built-in DDPM CIFAR-10 ch64 EMA model.",
    };
    public Option<ArchitectureChoice> Arch { get; } = new("--arch")
    {
        Description = "auto (read from the checkpoint), ddpm, iddpm, or an exact published config: ddpm-cifar10, iddpm-cifar10, iddpm-imagenet64.",
        DefaultValueFactory = _ => ArchitectureChoice.Auto,
        CustomParser = r =>
        {
            var parsed = ParseArch(r.Tokens[0].Value);
            if (parsed is null) r.AddError($"unknown --arch '{r.Tokens[0].Value}'; expected auto, ddpm, iddpm, ddpm-cifar10, iddpm-cifar10 or iddpm-imagenet64.");
            return parsed ?? ArchitectureChoice.Auto;
        },
    };
    public Option<int> ImageSize { get; } = new("--image-size") { Description = "Image size in pixels (not stored in checkpoints).", DefaultValueFactory = _ => 32 };
    public Option<int> NumHeads { get; } = new("--num-heads") { Description = "Attention heads of an improved-diffusion model (not stored in checkpoints).", DefaultValueFactory = _ => 4 };
    public Option<string?> CheckpointKey { get; } = new("--ckpt-key") { Description = "Entry of the state dict inside the file (e.g. ema, state_dict, 0); default picks it." };
    public Option<int?> DiffusionSteps { get; } = new("--diffusion-steps") { Description = "Training steps T (default: 1000 for ddpm, 4000 for iddpm)." };
    public Option<BetaSchedule?> Schedule { get; } = new("--schedule") { Description = "Beta schedule: linear or cosine (default: the family's)." };
    public Option<int> Threads { get; } = new("--threads") { Description = "CPU threads for TorchSharp.", DefaultValueFactory = _ => Environment.ProcessorCount };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Model, Arch, ImageSize, NumHeads, CheckpointKey, DiffusionSteps, Schedule, Threads })
            command.Options.Add(option);
    }

    public static string BuiltInPath => Path.Combine(AppContext.BaseDirectory, "models", BuiltInFile);

    public DiffusionModel Load(ParseResult result)
    {
        TorchSharp.torch.set_num_threads(Math.Max(1, result.GetValue(Threads)));
        var path = result.GetValue(Model) ?? BuiltInPath;
        if (result.GetValue(Model) is null && !File.Exists(path))
            throw new QdmInputException($"the built-in model is missing from {path}; pass --model PATH.");
        var options = new ModelLoadOptions(path)
        {
            Architecture = result.GetValue(Arch),
            ImageSize = result.GetValue(ImageSize),
            NumHeads = result.GetValue(NumHeads),
            CheckpointKey = result.GetValue(CheckpointKey),
        };
        var model = ModelLoader.Load(options);
        var steps = result.GetValue(DiffusionSteps);
        var schedule = result.GetValue(Schedule);
        if (steps is null && schedule is null) return model;
        var diffusion = model.Diffusion with
        {
            Steps = steps ?? model.Diffusion.Steps,
            Schedule = schedule ?? model.Diffusion.Schedule,
        };
        return (model with { Diffusion = diffusion.Validated() }).Validated();
    }

    /// <summary>A checkpoint (as <see cref="Load"/>) or a quantized .qdm file, with how it is quantized ("none" for FP).</summary>
    public (DiffusionModel Model, string Quantization) LoadForInference(ParseResult result)
    {
        var path = result.GetValue(Model);
        if (path is null || !path.EndsWith(".qdm", StringComparison.OrdinalIgnoreCase)) return (Load(result), "none (FP32)");
        TorchSharp.torch.set_num_threads(Math.Max(1, result.GetValue(Threads)));
        var (quantized, diffusion, metadata) = Export.CompactModelFile.Load(path);
        var described = quantized.Config.Describe();
        var model = new DiffusionModel(quantized.Network, diffusion,
            $"{path} ({described}; quantized from {metadata.GetValueOrDefault("source", "?")})")
        { Identity = IO.FileHash.Identity(path) }.Validated();
        return (model, described);
    }

    private static ArchitectureChoice? ParseArch(string value) => value.ToLowerInvariant() switch
    {
        "auto" => ArchitectureChoice.Auto,
        "ddpm" => ArchitectureChoice.Ddpm,
        "iddpm" or "improved-diffusion" => ArchitectureChoice.Iddpm,
        "ddpm-cifar10" => ArchitectureChoice.DdpmCifar10,
        "iddpm-cifar10" => ArchitectureChoice.IddpmCifar10,
        "iddpm-imagenet64" => ArchitectureChoice.IddpmImageNet64,
        _ => null,
    };
}
