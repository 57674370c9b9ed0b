namespace Qdm.Cli.Reproduce;

/// <summary>Where the products of a reproduction run live under --out (quant/, samples/, eval/, calibration/, figures/).</summary>
public sealed record ReproduceFolder(string Root)
{
    public string Under(params string[] parts) => Path.Combine(new[] { Root }.Concat(parts).ToArray());

    /// <summary>A row's finished sample set: it appears only when the set is complete.</summary>
    public string SamplesFile(string key) => Under("samples", key, "samples.npz");

    /// <summary>Images of a row sampled so far: all of them once its set is complete, else those in its finished batches.</summary>
    public long SampledImages(string key, long perRow)
    {
        if (File.Exists(SamplesFile(key))) return perRow;
        var batches = Under("samples", key, "batches");
        if (!Directory.Exists(batches)) return 0;
        return Directory.EnumerateFiles(batches, "*.npz")   // FIRST-LAST.npz, written atomically
            .Select(f => Path.GetFileNameWithoutExtension(f).Split('-'))
            .Sum(range => range.Length == 2 && long.TryParse(range[0], out long first) && long.TryParse(range[1], out long last) ? last - first + 1 : 0);
    }
}
