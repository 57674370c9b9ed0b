using System.Security.Cryptography;

namespace Qdm.IO;

public static class FileHash
{
    /// <summary>Lower-case hex SHA-256 of a file's bytes.</summary>
    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Names a model by content, so a run folder does not depend on where the file lies:
    /// "name sha256:…" for a file, the full path for a folder (a diffusers directory).</summary>
    public static string Identity(string path) =>
        File.Exists(path) ? $"{Path.GetFileName(path)} sha256:{Sha256(path)}" : Path.GetFullPath(path);
}
