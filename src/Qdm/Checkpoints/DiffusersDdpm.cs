using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Qdm.Checkpoints;

/// <summary>
/// diffusers `UNet2DModel` checkpoints of the DDPM architecture (e.g. google/ddpm-cifar10-32) renamed to the ddim names
/// (../shared/facts/diffusers-ddpm-mapping.md): up blocks reversed (k → L−1−k), attention Linear [C,C] → 1×1 conv
/// [C,C,1,1], old (query/key/value/proj_attn) and new (to_q/to_k/to_v/to_out.0) attention names both accepted.
/// </summary>
public static partial class DiffusersDdpm
{
    public static bool IsDiffusers(IReadOnlyDictionary<string, Tensor> tensors) =>
        tensors.ContainsKey("time_embedding.linear_1.weight") && tensors.ContainsKey("conv_in.weight");

    public static Dictionary<string, Tensor> ToDdimNames(IReadOnlyDictionary<string, Tensor> tensors)
    {
        int levels = tensors.Keys.Select(k => DownBlock().Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(-1).Max() + 1;
        if (levels == 0) throw new QdmInputException("diffusers checkpoint has no down_blocks.*: not a UNet2DModel.");
        var result = new Dictionary<string, Tensor>();
        foreach (var (key, value) in tensors)
        {
            var name = Rename(key, levels)
                ?? throw new QdmInputException($"diffusers key '{key}' has no counterpart in the DDPM U-Net (is it a DDPM UNet2DModel?).");
            bool attentionLinear = name.Contains(".attn", StringComparison.Ordinal) && value.dim() == 2;
            result[name] = attentionLinear ? value.reshape(value.shape[0], value.shape[1], 1, 1) : value;
        }
        return result;
    }

    /// <summary>Rejects a config.json whose settings give another network than the ddim forward (the "config traps").</summary>
    public static void CheckConfig(string configPath)
    {
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        var problems = new List<string>();
        void Expect(string key, string expected, string fallback)
        {
            var actual = config.TryGetPropertyValue(key, out var node) ? node?.ToJsonString() ?? "null" : fallback;
            if (actual != expected) problems.Add($"{key} = {actual} (expected {expected})");
        }
        Expect("_class_name", "\"UNet2DModel\"", "missing");
        Expect("attention_head_dim", "null", "8 (default)");
        Expect("norm_eps", "1E-06", "1E-05 (default)");
        Expect("downsample_padding", "0", "1 (default)");
        Expect("flip_sin_to_cos", "false", "true (default)");
        Expect("freq_shift", "1", "0 (default)");
        Expect("norm_num_groups", "32", "32");
        Expect("act_fn", "\"silu\"", "\"silu\"");
        Expect("time_embedding_type", "\"positional\"", "\"positional\"");
        Expect("resnet_time_scale_shift", "\"default\"", "\"default\"");
        if (config["norm_eps"] is { } eps && Math.Abs(eps.GetValue<double>() - 1e-6) < 1e-12) problems.RemoveAll(p => p.StartsWith("norm_eps"));
        if (problems.Count > 0)
            throw new QdmInputException($"{configPath} describes a UNet2DModel that differs from the DDPM U-Net: {string.Join("; ", problems)}.");
    }

    private static string? Rename(string key, int levels)
    {
        string? Simple(string k) => k switch
        {
            _ when k.StartsWith("time_embedding.linear_1.") => "temb.dense.0." + k["time_embedding.linear_1.".Length..],
            _ when k.StartsWith("time_embedding.linear_2.") => "temb.dense.1." + k["time_embedding.linear_2.".Length..],
            _ when k.StartsWith("conv_norm_out.") => "norm_out." + k["conv_norm_out.".Length..],
            _ when k.StartsWith("conv_in.") || k.StartsWith("conv_out.") => k,
            _ => null,
        };
        if (Simple(key) is { } simple) return simple;

        var m = Block().Match(key);
        if (!m.Success) return null;
        string kind = m.Groups["kind"].Value, rest = m.Groups["rest"].Value;
        int index = m.Groups["index"].Success ? int.Parse(m.Groups["index"].Value) : 0;
        string prefix = kind switch
        {
            "down_blocks" => $"down.{index}",
            "up_blocks" => $"up.{levels - 1 - index}",
            _ => "mid",
        };

        var part = Part().Match(rest);
        if (!part.Success) return null;
        string sub = part.Groups["sub"].Value, j = part.Groups["j"].Value, tail = part.Groups["tail"].Value;
        return (kind, sub) switch
        {
            ("mid_block", "resnets") => $"mid.block_{int.Parse(j) + 1}.{ResnetTail(tail)}",
            ("mid_block", "attentions") => AttentionTail(tail) is { } a ? $"mid.attn_1.{a}" : null,
            (_, "resnets") => $"{prefix}.block.{j}.{ResnetTail(tail)}",
            (_, "attentions") => AttentionTail(tail) is { } a ? $"{prefix}.attn.{j}.{a}" : null,
            ("down_blocks", "downsamplers") when tail.StartsWith("conv.") => $"{prefix}.downsample.{tail}",
            ("up_blocks", "upsamplers") when tail.StartsWith("conv.") => $"{prefix}.upsample.{tail}",
            _ => null,
        };
    }

    private static string ResnetTail(string tail) => tail
        .Replace("time_emb_proj.", "temb_proj.")
        .Replace("conv_shortcut.", "nin_shortcut.");

    private static string? AttentionTail(string tail)
    {
        foreach (var (from, to) in new[]
        {
            ("group_norm.", "norm."), ("to_q.", "q."), ("query.", "q."), ("to_k.", "k."), ("key.", "k."),
            ("to_v.", "v."), ("value.", "v."), ("to_out.0.", "proj_out."), ("proj_attn.", "proj_out."),
        })
            if (tail.StartsWith(from, StringComparison.Ordinal)) return to + tail[from.Length..];
        return null;
    }

    [GeneratedRegex(@"^down_blocks\.(\d+)\.")]
    private static partial Regex DownBlock();
    [GeneratedRegex(@"^(?<kind>down_blocks|up_blocks|mid_block)\.(?:(?<index>\d+)\.)?(?<rest>.+)$")]
    private static partial Regex Block();
    [GeneratedRegex(@"^(?<sub>resnets|attentions|downsamplers|upsamplers)\.(?<j>\d+)\.(?<tail>.+)$")]
    private static partial Regex Part();
}
