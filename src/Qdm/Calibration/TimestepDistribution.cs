namespace Qdm.Calibration;

public enum TimestepDistributionKind
{
    /// <summary>Q-Diffusion: K time steps spread evenly over the S-step sampling trajectory, every image at each of them.</summary>
    Uniform,
    /// <summary>PTQ4DM's NDTC: each sample's position k = ⌊N(μ, σ)·S⌋ clamped to [0, S−1], k = 0 being the final (cleanest) step.</summary>
    Normal,
}

/// <summary>Which positions along an S-step sampling trajectory calibration samples are taken from.</summary>
public sealed record TimestepDistribution
{
    public TimestepDistributionKind Kind { get; init; } = TimestepDistributionKind.Uniform;
    /// <summary>Uniform: how many distinct positions (Q-Diffusion: 20 of a 100-step trajectory).</summary>
    public int UniformPositions { get; init; } = 20;
    /// <summary>Normal: mean and standard deviation as fractions of S (PTQ4DM: 0.4 and 0.4).</summary>
    public double Mean { get; init; } = 0.4;
    public double Std { get; init; } = 0.4;

    /// <summary>
    /// Positions k in 0..S−1 counted from the END of sampling (k = 0: the last step, t ≈ 0; k = S−1: the first, pure noise).
    /// The sampling-step index is S − 1 − k. Normal draws outside [0, S−1] are clamped to the ends (PTQ4DM's rule: about
    /// 16 % land on k = 0 and 7 % on k = S − 1 with μ = σ = 0.4), so the ends are over-represented, as in the original.
    /// </summary>
    public int[] DrawPositions(int count, int steps, Random random) => Kind switch
    {
        TimestepDistributionKind.Uniform => Enumerable.Range(0, count).Select(i => UniformPosition(i % Math.Min(UniformPositions, steps), steps)).ToArray(),
        _ => Enumerable.Range(0, count).Select(_ => Math.Clamp((int)Math.Floor(Gaussian(random) * Std * steps + Mean * steps), 0, steps - 1)).ToArray(),
    };

    /// <summary>The j-th of K evenly spread positions over S steps (j = 0 is the first sampling step).</summary>
    public int UniformPosition(int j, int steps)
    {
        int k = Math.Min(UniformPositions, steps);
        int samplingIndex = (int)Math.Round(j * (steps - 1.0) / Math.Max(1, k - 1));
        return steps - 1 - samplingIndex;
    }

    /// <summary>Box–Muller standard normal.</summary>
    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    public string Describe() => Kind == TimestepDistributionKind.Uniform
        ? $"uniform over {UniformPositions} positions"
        : $"normal N({Mean}, {Std})·S, clamped to [0, S−1]";
}
