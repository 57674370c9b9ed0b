namespace Qdm.Diffusion;

/// <summary>How S sampling steps are chosen among the T training steps.</summary>
public enum SkipKind
{
    /// <summary>ddim repo `skip_type=uniform`: range(0, T, T // S) (more than S entries when S does not divide T).</summary>
    Uniform,
    /// <summary>ddim repo `skip_type=quad`: int(linspace(0, √(0.8·T), S)²); keeps repeated steps.</summary>
    Quad,
    /// <summary>improved-diffusion "ddimS": the integer stride whose range(0, T, stride) has exactly S entries.</summary>
    Even,
    /// <summary>improved-diffusion "S" (or "S1,S2,..."): rounded fractional strides per section, including T − 1.</summary>
    Sections,
}

/// <summary>Time-step lists exactly as the reference codebases produce them, in ascending order.</summary>
public static class Respacing
{
    public static int[] Timesteps(SkipKind kind, int totalSteps, int sampleSteps) => kind switch
    {
        SkipKind.Uniform => Uniform(totalSteps, sampleSteps),
        SkipKind.Quad => Quad(totalSteps, sampleSteps),
        SkipKind.Even => Even(totalSteps, sampleSteps),
        SkipKind.Sections => Sections(totalSteps, sampleSteps),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static int[] Uniform(int totalSteps, int sampleSteps)
    {
        Check(totalSteps, sampleSteps);
        int skip = totalSteps / sampleSteps;
        return Enumerable.Range(0, (totalSteps + skip - 1) / skip).Select(i => i * skip).ToArray();
    }

    public static int[] Quad(int totalSteps, int sampleSteps)
    {
        Check(totalSteps, sampleSteps);
        double stop = Math.Sqrt(totalSteps * 0.8);
        var points = Linspace(0, stop, sampleSteps);
        return points.Select(p => (int)(p * p)).ToArray();
    }

    public static int[] Even(int totalSteps, int sampleSteps)
    {
        Check(totalSteps, sampleSteps);
        for (int stride = 1; stride < totalSteps; stride++)
            if ((totalSteps + stride - 1) / stride == sampleSteps)
                return Enumerable.Range(0, sampleSteps).Select(i => i * stride).ToArray();
        throw new ArgumentException($"cannot create exactly {sampleSteps} steps with an integer stride over T = {totalSteps}; use sections skipping instead.");
    }

    /// <summary>improved-diffusion `space_timesteps` with section counts (Python's round-half-to-even).</summary>
    public static int[] Sections(int totalSteps, params int[] sectionCounts)
    {
        if (sectionCounts.Length == 0) throw new ArgumentException("need at least one section count.");
        int sizePer = totalSteps / sectionCounts.Length, extra = totalSteps % sectionCounts.Length, start = 0;
        var steps = new SortedSet<int>();
        for (int i = 0; i < sectionCounts.Length; i++)
        {
            int size = sizePer + (i < extra ? 1 : 0), count = sectionCounts[i];
            if (size < count) throw new ArgumentException($"cannot divide a section of {size} steps into {count}.");
            double stride = count <= 1 ? 1 : (double)(size - 1) / (count - 1);
            double current = 0;
            for (int k = 0; k < count; k++)
            {
                steps.Add(start + (int)Math.Round(current, MidpointRounding.ToEven));
                current += stride;
            }
            start += size;
        }
        return steps.ToArray();
    }

    /// <summary>np.linspace(start, stop, n): start + i·step, last value exactly stop.</summary>
    private static double[] Linspace(double start, double stop, int n)
    {
        if (n == 1) return new[] { start };
        double step = (stop - start) / (n - 1);
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = start + i * step;
        values[^1] = stop;
        return values;
    }

    private static void Check(int totalSteps, int sampleSteps)
    {
        if (sampleSteps < 1 || sampleSteps > totalSteps)
            throw new ArgumentException($"sampling steps must be between 1 and T = {totalSteps}, got {sampleSteps}.");
    }
}
