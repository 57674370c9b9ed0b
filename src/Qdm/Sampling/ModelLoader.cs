using Qdm.Diffusion;
using Qdm.Models;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;

namespace Qdm.Sampling;

/// <summary>Named architectures: exact published configs, or a family whose sizes are read off the checkpoint.</summary>
public enum ArchitectureChoice
{
    /// <summary>Detect the family from the parameter names, read every size from the shapes.</summary>
    Auto,
    Ddpm,
    Iddpm,
    /// <summary>Ho et al.'s published CIFAR-10 DDPM (ch 128), checked strictly.</summary>
    DdpmCifar10,
    /// <summary>improved-diffusion cifar10_uncond_50M_500K.pt, checked strictly.</summary>
    IddpmCifar10,
    /// <summary>improved-diffusion imagenet64_uncond_100M_1500K.pt, checked strictly.</summary>
    IddpmImageNet64,
}

/// <summary>What to load and how; sizes the shapes cannot tell (image size, heads) have the references' defaults.</summary>
public sealed record ModelLoadOptions(string Path)
{
    public ArchitectureChoice Architecture { get; init; } = ArchitectureChoice.Auto;
    public int ImageSize { get; init; } = 32;
    public int NumHeads { get; init; } = 4;
    /// <summary>Entry holding the state dict inside the file ("ema", "state_dict", a list index); null picks it.</summary>
    public string? CheckpointKey { get; init; }
    /// <summary>Overrides the family's standard forward process.</summary>
    public DiffusionConfig? Diffusion { get; init; }
}

public static class ModelLoader
{
    public static DiffusionModel Load(ModelLoadOptions options)
    {
        if (!File.Exists(options.Path) && !Directory.Exists(options.Path))
            throw new QdmInputException($"model file not found: {options.Path}");
        UNetFamily? wanted = options.Architecture switch
        {
            ArchitectureChoice.Ddpm or ArchitectureChoice.DdpmCifar10 => UNetFamily.Ddpm,
            ArchitectureChoice.Iddpm or ArchitectureChoice.IddpmCifar10 or ArchitectureChoice.IddpmImageNet64 => UNetFamily.Iddpm,
            _ => null,
        };
        var (stateDict, detected) = ModelFactory.ReadDetected(options.Path, options.CheckpointKey, wanted, options.Architecture.ToString());
        UNetConfig config = options.Architecture switch
        {
            ArchitectureChoice.DdpmCifar10 => DdpmUNetConfig.Cifar10,
            ArchitectureChoice.IddpmCifar10 => IddpmUNetConfig.Cifar10Uncond,
            ArchitectureChoice.IddpmImageNet64 => IddpmUNetConfig.ImageNet64Uncond,
            _ => ArchitectureInference.Infer(stateDict.Tensors, detected, options.ImageSize, options.NumHeads),
        };

        var network = ModelFactory.Load(stateDict, config);
        var diffusion = options.Diffusion ?? DiffusionModel.DefaultDiffusionFor(detected);
        return new DiffusionModel(network, diffusion, stateDict.Source) { Identity = IO.FileHash.Identity(options.Path) }.Validated();
    }
}
