using Qdm.IO;
using static TorchSharp.torch;

namespace Qdm.Reconstruction;

/// <summary>
/// Cached inputs and targets of one reconstruction unit, in batches. Batches stay in memory up to a byte budget; later
/// ones are written to a folder as safetensors and read back when drawn.
/// </summary>
public sealed class UnitCache : IDisposable
{
    private readonly List<Dictionary<string, Tensor>?> inMemory = new();
    private readonly List<string?> onDisk = new();
    private readonly string folder;
    private readonly long budget;
    private long bytes;

    public UnitCache(string folder, long budgetBytes)
    {
        this.folder = folder;
        budget = budgetBytes;
    }

    public int Count => inMemory.Count;
    public bool Spilled => onDisk.Any(f => f is not null);

    public void Add(Dictionary<string, Tensor> batch)
    {
        long size = batch.Values.Sum(t => t.numel() * t.element_size());
        if (bytes + size <= budget)
        {
            inMemory.Add(batch.ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope()));
            onDisk.Add(null);
            bytes += size;
            return;
        }
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"batch{inMemory.Count:D5}.safetensors");
        Safetensors.Write(path, batch);
        inMemory.Add(null);
        onDisk.Add(path);
    }

    public Dictionary<string, Tensor> Get(int index) =>
        inMemory[index] ?? Safetensors.Read(onDisk[index]!).Tensors;

    public void Dispose()
    {
        foreach (var batch in inMemory) if (batch is not null) foreach (var t in batch.Values) t.Dispose();
        foreach (var file in onDisk) if (file is not null && File.Exists(file)) File.Delete(file);
    }
}
