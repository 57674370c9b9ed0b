using Qdm.IO;
using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>Mean and covariance of a feature set in float64 (np.mean(axis=0), np.cov(rowvar=False): ddof 1).</summary>
public sealed record GaussianStatistics(Tensor Mu, Tensor Sigma, long Count)
{
    public static GaussianStatistics FromFeatures(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2)
            throw new ArgumentException($"statistics need at least 2 feature rows, got [{string.Join(",", features.shape)}].");
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64);
        var mu = x.mean(new long[] { 0 });
        var centred = x - mu;
        var sigma = centred.t().matmul(centred) / (x.shape[0] - 1);   // two-pass: no cancellation from Σxxᵀ − nμμᵀ
        return new GaussianStatistics(mu.MoveToOuterDisposeScope(), sigma.MoveToOuterDisposeScope(), x.shape[0]);
    }

    public int Dimension => (int)Mu.shape[0];

    private Tensor? rangeRoot;

    /// <summary>
    /// V·diag(√λ) of Σ on its numerical range (see <see cref="FrechetDistance"/>), computed once per statistics object:
    /// a reference set, or the FP samples, is compared with every row of a table, and at 1,372 spatial dimensions each
    /// eigen-decomposition takes seconds.
    /// </summary>
    internal Tensor RangeRoot => rangeRoot ??= FrechetDistance.RangeRoot(Sigma.to(ScalarType.Float64)).DetachFromDisposeScope();
}

/// <summary>
/// Reference statistics as saved to .npz: pytorch-fid's mu/sigma, the spatial pair (mu_s/sigma_s), the network name and
/// image count, and the pooled features themselves (needed for KID and precision/recall).
/// </summary>
public sealed record ReferenceStatistics(string Network, GaussianStatistics Pooled, GaussianStatistics? Spatial, Tensor? Features = null)
{
    public void Save(string path)
    {
        var arrays = new Dictionary<string, Tensor>
        {
            ["mu"] = Pooled.Mu,
            ["sigma"] = Pooled.Sigma,
            ["count"] = tensor(new[] { Pooled.Count }),
        };
        if (Spatial is not null)
        {
            arrays["mu_s"] = Spatial.Mu;
            arrays["sigma_s"] = Spatial.Sigma;
        }
        if (Features is not null) arrays["features"] = Features.to(ScalarType.Float32);
        Npz.Write(path, arrays, new Dictionary<string, string> { ["network"] = Network });
    }

    /// <summary>Reads our files and pytorch-fid's (mu, sigma only; the network is then unknown).</summary>
    public static ReferenceStatistics Load(string path)
    {
        if (!File.Exists(path)) throw new QdmInputException($"reference statistics not found: {path}");
        var arrays = Npz.Read(path);
        if (!arrays.TryGetValue("mu", out var mu) || !arrays.TryGetValue("sigma", out var sigma))
            throw new QdmInputException($"{path} has no mu/sigma arrays; make reference statistics with `qdm stats`.");
        long count = arrays.TryGetValue("count", out var c) ? c.data<long>()[0] : -1;
        var network = Npz.ReadStrings(path).GetValueOrDefault("network", "unknown");
        GaussianStatistics? spatial = arrays.TryGetValue("mu_s", out var mus) && arrays.TryGetValue("sigma_s", out var sigmas)
            ? new GaussianStatistics(mus.to(ScalarType.Float64), sigmas.to(ScalarType.Float64), count) : null;
        return new ReferenceStatistics(network, new GaussianStatistics(mu.to(ScalarType.Float64), sigma.to(ScalarType.Float64), count), spatial,
            arrays.GetValueOrDefault("features"));
    }
}
