namespace Qdm.Cli.Reproduce;

/// <summary>Where the products of a reproduction run live under --out (quant/, samples/, eval/, calibration/, figures/).</summary>
public sealed record ReproduceFolder(string Root)
{
    public string Under(params string[] parts) => Path.Combine(new[] { Root }.Concat(parts).ToArray());

    /// <summary>A row's finished sample set: it appears only when the set is complete.</summary>
    public string SamplesFile(string key) => Under("samples", key, "samples.npz");
}
