using Qdm.Reconstruction;
using Qdm.Tests.Support;
using static TorchSharp.torch;

namespace Qdm.Tests.Reconstruction;

public class UnitCacheTests : TempFolder
{
    [Fact]
    public void Batches_beyond_the_memory_budget_go_to_disk_and_come_back_identical()
    {
        var folder = Path.Combine(dir, "cache");
        var batches = Enumerable.Range(0, 5).Select(i => new Dictionary<string, Tensor>
        {
            ["x"] = randn(new long[] { 4, 8, 8 }, generator: new Generator((ulong)i)),   // 1 KiB each
            ["y"] = randn(new long[] { 4, 2 }, generator: new Generator((ulong)(i + 10))),
        }).ToList();
        using (var cache = new UnitCache(folder, budgetBytes: 2500))   // room for two batches
        {
            foreach (var b in batches) cache.Add(b);
            Assert.True(cache.Spilled);
            Assert.Equal(3, Directory.GetFiles(folder).Length);
            for (int i = 0; i < batches.Count; i++)
                foreach (var key in new[] { "x", "y" })
                    Assert.Equal(0, TensorAssert.MaxAbsDiff(batches[i][key], cache.Get(i)[key]));
        }
        Assert.Empty(Directory.GetFiles(folder));   // spilled files are removed with the cache
    }
}
