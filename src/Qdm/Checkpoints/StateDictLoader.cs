using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Qdm.Checkpoints;

/// <summary>Copies a state dict into a model with strict name and shape checks.</summary>
public static class StateDictLoader
{
    /// <summary>Prefixes added by wrappers (DataParallel "module.", Lightning "model.", EMA helpers).</summary>
    public static readonly string[] KnownPrefixes = { "module.", "model.", "ema_model.", "ema.", "net." };

    public static void LoadStrict(Module model, StateDict source, string architecture)
    {
        var expected = model.state_dict();
        var tensors = StripPrefix(source.Tensors, expected);

        // BatchNorm's step counter is not a weight; PyTorch fills it in when a file lacks it (e.g. the FID Inception).
        var missing = expected.Keys.Where(k => !tensors.ContainsKey(k) && !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        var unexpected = tensors.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        var misshaped = expected.Keys.Where(tensors.ContainsKey)
            .Where(k => !expected[k].shape.SequenceEqual(tensors[k].shape))
            .Select(k => $"{k}: checkpoint [{string.Join(",", tensors[k].shape)}] vs model [{string.Join(",", expected[k].shape)}]")
            .ToList();
        if (missing.Count + unexpected.Count + misshaped.Count > 0)
            throw new CheckpointMismatchException(source.Source, architecture, missing, unexpected, misshaped);

        using var _ = no_grad();
        foreach (var (name, target) in expected)
        {
            if (!tensors.TryGetValue(name, out var value)) continue;
            if (!value.is_floating_point() && target.is_floating_point())
                throw new InvalidDataException($"{source.Source}: '{name}' holds {value.dtype}, expected floating point.");
            target.copy_(value);
        }
    }

    /// <summary>Removes one wrapper prefix when every checkpoint key carries it and the model's keys do not.</summary>
    public static Dictionary<string, Tensor> StripPrefix(Dictionary<string, Tensor> tensors, IReadOnlyDictionary<string, Tensor> expected)
    {
        foreach (var prefix in KnownPrefixes)
        {
            if (expected.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal))) continue;
            if (tensors.Count > 0 && tensors.Keys.All(k => k.StartsWith(prefix, StringComparison.Ordinal)))
                return tensors.ToDictionary(p => p.Key[prefix.Length..], p => p.Value);
        }
        return tensors;
    }
}

/// <summary>A checkpoint whose names or shapes do not fit the architecture; the message lists the first few of each.</summary>
public sealed class CheckpointMismatchException : QdmInputException
{
    public IReadOnlyList<string> Missing { get; }
    public IReadOnlyList<string> Unexpected { get; }
    public IReadOnlyList<string> Misshaped { get; }

    public CheckpointMismatchException(string source, string architecture, List<string> missing, List<string> unexpected, List<string> misshaped)
        : base($"{source} does not fit {architecture}: " + string.Join("; ", new[]
            {
                Summary("missing", missing), Summary("unexpected", unexpected), Summary("mis-shaped", misshaped),
            }.Where(s => s.Length > 0)))
    {
        Missing = missing;
        Unexpected = unexpected;
        Misshaped = misshaped;
    }

    private static string Summary(string what, List<string> keys) => keys.Count == 0 ? "" :
        $"{keys.Count} {what} key{(keys.Count == 1 ? "" : "s")} ({string.Join(", ", keys.Take(4))}{(keys.Count > 4 ? ", ..." : "")})";
}
