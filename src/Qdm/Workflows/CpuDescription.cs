using System.Runtime.InteropServices;

namespace Qdm.Workflows;

/// <summary>
/// The processor a record was made on, in words. A long run spans machines, and their speeds differ by 1.5× or more
/// (an AVX-512 core against an AVX2 one on the same convolutions), so times are only comparable within one CPU.
/// </summary>
public static class CpuDescription
{
    public static string Current() =>
        File.Exists("/proc/cpuinfo") ? FromCpuInfo(File.ReadAllText("/proc/cpuinfo"), Environment.ProcessorCount)
                                     : $"{RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} threads";

    /// <summary>
    /// False on an x64 CPU whose flags lack VNNI (AVX2-only parts such as Zen 3): ORT's u8×s8 int8 kernels would saturate
    /// there with 8-bit weights, so it falls back to slower u8×u8 kernels (OrtUNet). Null where it cannot tell.
    /// </summary>
    public static bool? HasVnni() =>
        File.Exists("/proc/cpuinfo") && RuntimeInformation.ProcessArchitecture == Architecture.X64 ? FlagsHaveVnni(File.ReadAllText("/proc/cpuinfo")) : null;

    public static bool FlagsHaveVnni(string cpuinfo) => FirstCpu(cpuinfo).Flags.Overlaps(new[] { "avx512_vnni", "avx_vnni" });

    /// <summary>Model name, family and model (the vendor's generation, where the name alone says little), the widest vector unit, thread count.</summary>
    public static string FromCpuInfo(string cpuinfo, int threads)
    {
        var (first, flags) = FirstCpu(cpuinfo);
        string name = first.GetValueOrDefault("model name", "unknown CPU");
        string vector = flags.Contains("avx512f") ? "AVX-512" : flags.Contains("avx2") ? "AVX2" : flags.Contains("avx") ? "AVX" : "no AVX";
        string generation = first.TryGetValue("cpu family", out var family) && first.TryGetValue("model", out var model) ? $"family {family} model {model}, " : "";
        return $"{name} ({generation}{vector}, {threads} threads)";
    }

    /// <summary>The first processor's fields (every core repeats them) and its feature flags.</summary>
    private static (Dictionary<string, string> Fields, HashSet<string> Flags) FirstCpu(string cpuinfo)
    {
        var fields = cpuinfo.Split('\n')
            .Select(l => l.Split(':', 2))
            .Where(kv => kv.Length == 2)
            .Select(kv => (Key: kv[0].Trim(), Value: kv[1].Trim()))
            .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.First().Value);
        var flags = fields.GetValueOrDefault("flags", "").Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        return (fields, flags);
    }
}
