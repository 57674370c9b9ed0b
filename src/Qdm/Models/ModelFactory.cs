using Qdm.Checkpoints;
using Qdm.Models.Ddpm;
using Qdm.Models.Iddpm;

namespace Qdm.Models;

/// <summary>Builds U-Nets from configs and loads checkpoints into them.</summary>
public static class ModelFactory
{
    public static DiffusionUNet Create(UNetConfig config)
    {
        DiffusionUNet model = config switch
        {
            DdpmUNetConfig ddpm => new DdpmUNet(ddpm),
            IddpmUNetConfig iddpm => new IddpmUNet(iddpm),
            _ => throw new ArgumentException($"unknown config type {config.GetType().Name}"),
        };
        model.eval();
        return model;
    }

    /// <summary>Loads a checkpoint strictly into a model of the given config.</summary>
    public static DiffusionUNet Load(string path, UNetConfig config, string? nestedKey = null)
    {
        var stateDict = CheckpointReader.Read(path, nestedKey);
        return Load(stateDict, config);
    }

    public static DiffusionUNet Load(StateDict stateDict, UNetConfig config)
    {
        var model = Create(config);
        StateDictLoader.LoadStrict(model, stateDict, config.Describe());
        return model;
    }

    /// <summary>Reads a checkpoint, removes wrapper prefixes and detects its U-Net family (checked against an expected one).</summary>
    public static (StateDict StateDict, UNetFamily Family) ReadDetected(string path, string? nestedKey = null, UNetFamily? expected = null,
        string? expectedName = null)
    {
        var read = CheckpointReader.Read(path, nestedKey);
        var names = StateDictLoader.StripPrefix(read.Tensors, new Dictionary<string, TorchSharp.torch.Tensor>());
        var detected = ArchitectureInference.DetectFamily(names)
            ?? throw new QdmInputException($"{read.Source} is neither a DDPM U-Net (conv_in, temb.dense.*) nor an improved-diffusion " +
                $"UNetModel (input_blocks.*, time_embed.*); its first keys are {string.Join(", ", names.Keys.Take(4))}.");
        if (expected is { } wanted && wanted != detected)
            throw new QdmInputException($"{read.Source} holds a {detected} U-Net, not the requested {expectedName ?? wanted.ToString()} architecture.");
        return (new StateDict(names, read.Source), detected);
    }

    /// <summary>Loads a checkpoint, reading the architecture off its names and shapes (family may be forced).</summary>
    public static DiffusionUNet LoadInferred(string path, UNetFamily? family = null, int imageSize = 32, int numHeads = 4, string? nestedKey = null)
    {
        var (stateDict, detected) = ReadDetected(path, nestedKey, family);
        return Load(stateDict, ArchitectureInference.Infer(stateDict.Tensors, detected, imageSize, numHeads));
    }
}
