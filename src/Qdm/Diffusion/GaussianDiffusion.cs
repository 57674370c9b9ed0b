namespace Qdm.Diffusion;

/// <summary>
/// Coefficients of a Gaussian diffusion in float64 (improved-diffusion `GaussianDiffusion.__init__`), optionally over a
/// respaced subset of the original time steps (`SpacedDiffusion`).
/// </summary>
public sealed class GaussianDiffusion
{
    public DiffusionConfig Config { get; }
    public double[] Betas { get; }
    public double[] AlphasCumprod { get; }
    /// <summary>Original time-step index of each step of this (possibly respaced) diffusion.</summary>
    public int[] TimestepMap { get; }
    public int NumSteps => Betas.Length;

    public double[] AlphasCumprodPrev { get; }
    public double[] PosteriorVariance { get; }
    public double[] PosteriorLogVarianceClipped { get; }
    public double[] PosteriorMeanCoef1 { get; }
    public double[] PosteriorMeanCoef2 { get; }

    public GaussianDiffusion(DiffusionConfig config)
        : this(config, BetaSchedules.Create(config.Validated().Schedule, config.Steps, config.BetaStart, config.BetaEnd),
               Enumerable.Range(0, config.Steps).ToArray())
    {
    }

    private GaussianDiffusion(DiffusionConfig config, double[] betas, int[] timestepMap)
    {
        Config = config;
        Betas = betas;
        TimestepMap = timestepMap;
        AlphasCumprod = BetaSchedules.AlphasCumprod(betas);
        int n = betas.Length;
        AlphasCumprodPrev = new double[n];
        PosteriorVariance = new double[n];
        PosteriorMeanCoef1 = new double[n];
        PosteriorMeanCoef2 = new double[n];
        for (int i = 0; i < n; i++)
        {
            double prev = i == 0 ? 1.0 : AlphasCumprod[i - 1];
            AlphasCumprodPrev[i] = prev;
            // Ho et al. eq. 7: posterior q(x_{t-1} | x_t, x_0) = N(coef1·x_0 + coef2·x_t, β̃_t).
            PosteriorVariance[i] = betas[i] * (1 - prev) / (1 - AlphasCumprod[i]);
            PosteriorMeanCoef1[i] = betas[i] * Math.Sqrt(prev) / (1 - AlphasCumprod[i]);
            PosteriorMeanCoef2[i] = (1 - prev) * Math.Sqrt(1 - betas[i]) / (1 - AlphasCumprod[i]);
        }
        // β̃_0 = 0, so the log is clipped by repeating β̃_1 (as the reference does).
        PosteriorLogVarianceClipped = new double[n];
        for (int i = 0; i < n; i++) PosteriorLogVarianceClipped[i] = Math.Log(n > 1 && i == 0 ? PosteriorVariance[1] : PosteriorVariance[i]);
    }

    /// <summary>improved-diffusion `SpacedDiffusion`: keep the given original steps, β_k = 1 − ᾱ[t_k]/ᾱ[t_{k−1}].</summary>
    public GaussianDiffusion Respace(IEnumerable<int> useTimesteps)
    {
        var keep = useTimesteps.Distinct().Order().ToArray();
        if (keep.Length == 0 || keep[0] < 0 || keep[^1] >= NumSteps)
            throw new ArgumentException($"respaced time steps must lie in 0..{NumSteps - 1}.");
        var betas = new double[keep.Length];
        double last = 1.0;
        for (int k = 0; k < keep.Length; k++)
        {
            betas[k] = 1 - AlphasCumprod[keep[k]] / last;
            last = AlphasCumprod[keep[k]];
        }
        return new GaussianDiffusion(Config, betas, keep.Select(t => TimestepMap[t]).ToArray());
    }

    /// <summary>The time value the network is fed for step k of this diffusion (its original index, rescaled if configured).</summary>
    public float ModelTime(int k) => Config.RescaleTimesteps
        ? (float)TimestepMap[k] * (float)(1000.0 / Config.Steps)
        : TimestepMap[k];

    /// <summary>Reverse-process log-variance for fixed variance kinds (improved-diffusion `model_variance` table).</summary>
    public double FixedLogVariance(int k) => Config.Variance switch
    {
        // "fixedlarge": β_t, with β̃_1 in place of β_0 so that the t = 0 step has the posterior's variance.
        VarianceKind.FixedLarge => Math.Log(k == 0 && NumSteps > 1 ? PosteriorVariance[1] : Betas[k]),
        VarianceKind.FixedSmall => PosteriorLogVarianceClipped[k],
        _ => throw new InvalidOperationException("a learned variance has no fixed value"),
    };
}
