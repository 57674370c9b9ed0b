using Qdm.Workflows;

namespace Qdm.Tests.Workflows;

public class CpuDescriptionTests
{
    private const string Zen3 = """
        processor	: 0
        vendor_id	: AuthenticAMD
        cpu family	: 25
        model		: 1
        model name	: AMD EPYC
        flags		: fpu vme sse sse2 avx fma avx2 bmi2
        processor	: 1
        vendor_id	: AuthenticAMD
        cpu family	: 25
        model		: 1
        model name	: AMD EPYC
        flags		: fpu vme sse sse2 avx fma avx2 bmi2
        """;

    [Fact]
    public void Names_the_model_its_generation_and_the_widest_vector_unit()
    {
        Assert.Equal("AMD EPYC (family 25 model 1, AVX2, 2 threads)", CpuDescription.FromCpuInfo(Zen3, 2));
        Assert.Equal("AMD EPYC (family 25 model 17, AVX-512, 2 threads)",
            CpuDescription.FromCpuInfo(Zen3.Replace("model\t\t: 1", "model\t\t: 17").Replace("avx2", "avx2 avx512f avx512bw"), 2));
        Assert.Equal("unknown CPU (no AVX, 4 threads)", CpuDescription.FromCpuInfo("processor : 0\nflags : fpu sse2\n", 4));
    }

    [Fact]
    public void VNNI_is_read_from_the_flags_in_either_form()
    {
        Assert.False(CpuDescription.FlagsHaveVnni(Zen3));
        Assert.True(CpuDescription.FlagsHaveVnni(Zen3.Replace("avx2", "avx2 avx512f avx512_vnni")));   // Zen 4, Ice Lake…
        Assert.True(CpuDescription.FlagsHaveVnni(Zen3.Replace("avx2", "avx2 avx_vnni")));              // Alder Lake, Zen 5 clients…
        Assert.False(CpuDescription.FlagsHaveVnni(Zen3.Replace("avx2", "avx2 avx512_vnni_like")));
    }
}
