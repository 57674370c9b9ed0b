namespace Qdm.Tests.Support;

/// <summary>Locates ../shared beside the repository (real checkpoints, data and oracles). Tests skip visibly without it.</summary>
public static class SharedAssets
{
    public static string? Root { get; } = Find();

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Full path of a file under ../shared; skips the calling test with a reason when it is not there.</summary>
    public static string Require(string relative)
    {
        Skip.If(Root is null, "../shared (real checkpoints, data and oracles) is not present beside the repository");
        var path = Path.Combine(Root!, relative);
        Skip.IfNot(File.Exists(path), $"../shared/{relative} is not present");
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Qdm.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Qdm.slnx) above " + AppContext.BaseDirectory);
    }

    private static string? Find()
    {
        var shared = Path.GetFullPath(Path.Combine(FindRepoRoot(), "..", "shared"));
        return Directory.Exists(shared) ? shared : null;
    }
}
