namespace Qdm.Diffusion;

public enum BetaSchedule { Linear, Cosine }

/// <summary>β schedules in float64, as numpy computes them in both reference codebases.</summary>
public static class BetaSchedules
{
    public static double[] Create(BetaSchedule kind, int steps, double betaStart, double betaEnd) => kind switch
    {
        BetaSchedule.Linear => Linear(steps, betaStart, betaEnd),
        BetaSchedule.Cosine => Cosine(steps),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>np.linspace(start, end, T): start + i·step, with the last value set to end exactly.</summary>
    public static double[] Linear(int steps, double betaStart, double betaEnd)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"need at least one diffusion step, got {steps}.");
        if (steps == 1) return new[] { betaStart };
        double step = (betaEnd - betaStart) / (steps - 1);
        var betas = new double[steps];
        for (int i = 0; i < steps; i++) betas[i] = i * step + betaStart;
        betas[^1] = betaEnd;
        return betas;
    }

    /// <summary>Nichol &amp; Dhariwal (2021) eq. 17: ᾱ(t) = cos²((t/T + s)/(1 + s)·π/2), s = 0.008; β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999).</summary>
    public static double[] Cosine(int steps, double maxBeta = 0.999)
    {
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        var betas = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            double t1 = (double)i / steps, t2 = (double)(i + 1) / steps;
            betas[i] = Math.Min(1 - AlphaBar(t2) / AlphaBar(t1), maxBeta);
        }
        return betas;
    }

    /// <summary>ᾱ_t = Π_{s≤t} (1 − β_s) (Ho et al. 2020, below eq. 4).</summary>
    public static double[] AlphasCumprod(double[] betas)
    {
        var result = new double[betas.Length];
        double product = 1;
        for (int i = 0; i < betas.Length; i++) result[i] = product *= 1 - betas[i];
        return result;
    }
}
