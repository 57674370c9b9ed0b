using Qdm.Checkpoints;

namespace Qdm.Metrics.Inception;

/// <summary>Finds and loads the FID Inception weights (pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`).</summary>
public static class InceptionWeights
{
    public const string FileName = "pt_inception-2015-12-05-6726825d.pth";
    public const string Url = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + FileName;
    public const string Sha256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2";

    /// <summary>An explicit path, else the file name inside the cache folder.</summary>
    public static string Locate(string? path, string? cacheFolder)
    {
        if (path is not null)
            return File.Exists(path) ? path : throw new QdmInputException($"Inception weights not found at {path}. {HowToGet}");
        var folder = cacheFolder ?? DefaultCacheFolder;
        var candidate = Path.Combine(folder, FileName);
        return File.Exists(candidate) ? candidate
            : throw new QdmInputException($"FID Inception weights are not in {folder} and no --inception path was given. {HowToGet}");
    }

    public static string DefaultCacheFolder =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "qdm");

    public static string HowToGet =>
        $"Download {FileName} (95,628,359 bytes, sha256 {Sha256[..16]}…) from {Url} and pass --inception PATH or put it in the cache folder.";

    public static FidInceptionV3 Load(string path)
    {
        var model = new FidInceptionV3();
        StateDictLoader.LoadStrict(model, CheckpointReader.Read(path), "pytorch-fid FID Inception-v3");
        model.eval();
        return model;
    }
}
