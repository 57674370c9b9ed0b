using static TorchSharp.torch;

namespace Qdm.Diffusion;

/// <summary>Where a sampler's Gaussian noise comes from: x_T first, then one draw per step (including the last, as the references do).</summary>
public interface INoiseSource
{
    Tensor NextLike(Tensor x);
}

/// <summary>
/// One generator per image, seeded from (seed, image index): an image's noise does not depend on the batch it is in,
/// so shards and batch sizes can change without changing any image.
/// </summary>
public sealed class PerImageNoise : INoiseSource, IDisposable
{
    private readonly Generator[] generators;

    public PerImageNoise(long seed, long firstImage, int count)
    {
        generators = new Generator[count];
        for (int i = 0; i < count; i++) generators[i] = new Generator((ulong)ImageSeed(seed, firstImage + i));
    }

    /// <summary>SplitMix64 of (seed, index): well-mixed, distinct seeds for neighbouring images.</summary>
    public static long ImageSeed(long seed, long index)
    {
        unchecked
        {
            ulong z = (ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index + 0x632BE59BD9B4E019UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (long)((z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFFUL);
        }
    }

    public Tensor Next(long[] imageShape)
    {
        var perImage = new Tensor[generators.Length];
        var shape = new long[] { 1 }.Concat(imageShape).ToArray();
        for (int i = 0; i < generators.Length; i++) perImage[i] = randn(shape, generator: generators[i]);
        var batch = cat(perImage, 0);
        foreach (var t in perImage) t.Dispose();
        return batch;
    }

    public Tensor NextLike(Tensor x)
    {
        if (x.shape[0] != generators.Length)
            throw new ArgumentException($"noise source holds {generators.Length} images, the batch has {x.shape[0]}.");
        return Next(x.shape[1..]);
    }

    public void Dispose()
    {
        foreach (var g in generators) g.Dispose();
    }
}

/// <summary>Replays stored noise tensors in order (used to compare with reference trajectories).</summary>
public sealed class ReplayNoise(IEnumerable<Tensor> draws) : INoiseSource
{
    private readonly Queue<Tensor> queue = new(draws);

    public Tensor NextLike(Tensor x) =>
        queue.TryDequeue(out var t) ? t.alias() : throw new InvalidOperationException("replayed noise is exhausted.");
}

/// <summary>Zero noise: for deterministic samplers in tests.</summary>
public sealed class NoNoise : INoiseSource
{
    public Tensor NextLike(Tensor x) => zeros_like(x);
}
