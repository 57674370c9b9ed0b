using System.Collections;
using Qdm.IO;

using static TorchSharp.torch;

namespace Qdm.Checkpoints;

/// <summary>A state dict read from a file, with a note of where in the file it was found.</summary>
public sealed record StateDict(Dictionary<string, Tensor> Tensors, string Source);

/// <summary>
/// Reads a state dict from safetensors or a PyTorch zip checkpoint (.pt/.ckpt/.pth/.bin), including dicts nested under
/// a key ("state_dict", "ema", ...) or in a list as ermongroup/ddim's training writes ([model, optimizer, epoch, step, ema]).
/// </summary>
public static class CheckpointReader
{
    /// <summary>Keys tried, in order, when the top level is not itself a state dict.</summary>
    public static readonly string[] NestedKeys = { "ema", "ema_model", "model_ema", "state_dict", "model", "module", "net" };

    /// <param name="nestedKey">Explicit key (or list index) of the state dict inside the file; null picks automatically.</param>
    public static StateDict Read(string path, string? nestedKey = null)
    {
        if (Directory.Exists(path)) path = WeightsInFolder(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint not found: {path}", path);
        object root;
        using (var stream = OpenMaybeGzipped(path))
        {
            root = DetectFormat(stream) switch
            {
                CheckpointFormat.Safetensors => IO.Safetensors.Read(stream, path).Tensors,
                CheckpointFormat.PyTorchZip => UnpicklePyTorch(stream, path),
                CheckpointFormat.PyTorchLegacy => throw new InvalidDataException(
                    $"{path} is in PyTorch's legacy (pre-1.6, non-zip) format, which Qdm does not read. Re-save it once with " +
                    $"python -c \"import torch; torch.save(torch.load('{Path.GetFileName(path)}', map_location='cpu'), 'resaved.pt')\""),
                _ => throw new InvalidDataException(
                    $"{path} is neither a safetensors file nor a PyTorch zip checkpoint (first bytes: {FirstBytesHex(stream)}); it may be truncated or another format."),
            };
        }
        var (tensors, where) = Locate(root, nestedKey, path);
        if (DiffusersDdpm.IsDiffusers(tensors))
        {
            var config = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "config.json");
            if (File.Exists(config)) DiffusersDdpm.CheckConfig(config);
            tensors = DiffusersDdpm.ToDdimNames(tensors);
            where += File.Exists(config) ? " (diffusers UNet2DModel, config.json checked)" : " (diffusers UNet2DModel names; no config.json to check)";
        }
        var floats = tensors.ToDictionary(p => p.Key, p => p.Value.is_floating_point() && p.Value.dtype != ScalarType.Float32
            ? p.Value.to(ScalarType.Float32) : p.Value);
        return new StateDict(floats, $"{path}{where}");
    }

    /// <summary>A diffusers model folder (or pipeline folder with unet/): its weights file.</summary>
    private static string WeightsInFolder(string folder)
    {
        foreach (var sub in new[] { "", "unet" })
            foreach (var name in new[] { "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin", "model.safetensors" })
                if (Path.Combine(folder, sub, name) is var candidate && File.Exists(candidate)) return candidate;
        throw new FileNotFoundException($"{folder} is a folder without diffusion_pytorch_model.safetensors/.bin (also looked in unet/).", folder);
    }

    public static CheckpointFormat DetectFormat(string path)
    {
        using var stream = OpenMaybeGzipped(path);
        return DetectFormat(stream);
    }

    /// <summary>Looks at the first bytes and rewinds the (seekable) stream.</summary>
    public static CheckpointFormat DetectFormat(Stream stream)
    {
        var head = new byte[9];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = 0;
        if (read >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return CheckpointFormat.PyTorchZip;
        if (read >= 9 && head[8] == '{' && BitConverter.ToInt64(head, 0) is > 0 and var n && n < stream.Length)
            return CheckpointFormat.Safetensors;
        if (read >= 2 && head[0] == 0x80 && head[1] <= 5) return CheckpointFormat.PyTorchLegacy;   // a bare pickle stream
        return CheckpointFormat.Unknown;
    }

    /// <summary>A file stream, or for *.gz the decompressed bytes in memory (weights shipped gzip-compressed).</summary>
    private static Stream OpenMaybeGzipped(string path)
    {
        var file = File.OpenRead(path);
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return file;
        using (file)
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress))
        {
            var memory = new MemoryStream();
            try { gzip.CopyTo(memory); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: damaged gzip stream ({e.Message})."); }
            memory.Position = 0;
            return memory;
        }
    }

    private static object UnpicklePyTorch(Stream stream, string path)
    {
        try { return TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true, skipTensorRead: false); }
        catch (Exception e) when (e is not FileNotFoundException)
        {
            throw new InvalidDataException($"{path}: could not read the PyTorch checkpoint ({e.GetType().Name}: {e.Message}). " +
                "Is the file complete? A plain state dict saved with torch.save(model.state_dict(), path) is expected.");
        }
    }

    private static (Dictionary<string, Tensor> Tensors, string Where) Locate(object root, string? nestedKey, string path)
    {
        if (nestedKey is not null)
        {
            var child = Child(root, nestedKey)
                ?? throw new InvalidDataException($"{path} has no entry '{nestedKey}' (top-level entries: {DescribeKeys(root)}).");
            return (AsTensorDict(child) ?? throw new InvalidDataException($"{path}: entry '{nestedKey}' is not a dict of tensors."),
                $" [{nestedKey}]");
        }
        if (AsTensorDict(root) is { } direct) return (direct, "");
        foreach (var key in NestedKeys)
            if (Child(root, key) is { } child && AsTensorDict(child) is { } nested) return (nested, $" [{key}]");
        if (root is IList list)
            for (int i = list.Count - 1; i >= 0; i--)   // ddim's [model, optimizer, epoch, step, ema]: the last dict is the EMA
                if (AsTensorDict(list[i]) is { } item) return (item, $" [{i}]");
        throw new InvalidDataException($"{path} holds no state dict of tensors (top-level entries: {DescribeKeys(root)}). " +
            "Name the entry with --ckpt-key.");
    }

    private static object? Child(object root, string key) => root switch
    {
        IDictionary dict when dict.Contains(key) => dict[key],
        IList list when int.TryParse(key, out int i) && i >= 0 && i < list.Count => list[i],
        _ => null,
    };

    private static Dictionary<string, Tensor>? AsTensorDict(object? value)
    {
        if (value is Dictionary<string, Tensor> typed) return typed.Count > 0 ? typed : null;
        if (value is not IDictionary dict || dict.Count == 0) return null;
        var result = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry entry in dict)
        {
            if (entry.Key is not string name || entry.Value is not Tensor tensor) return null;
            result[name] = tensor;
        }
        return result;
    }

    private static string DescribeKeys(object root) => root switch
    {
        IDictionary dict => string.Join(", ", dict.Keys.Cast<object>().Take(8)),
        IList list => $"a list of {list.Count} items",
        _ => root.GetType().Name,
    };

    private static string FirstBytesHex(Stream stream)
    {
        var head = new byte[8];
        int n = stream.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        return n == 0 ? "empty file" : Convert.ToHexString(head, 0, n);
    }
}

public enum CheckpointFormat { Unknown, Safetensors, PyTorchZip, PyTorchLegacy }
