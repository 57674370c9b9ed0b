namespace Qdm.Tests.Support;

/// <summary>A fresh temporary folder per test, deleted afterwards.</summary>
public abstract class TempFolder : IDisposable
{
    protected readonly string dir = Directory.CreateTempSubdirectory("qdm-test-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }
}
