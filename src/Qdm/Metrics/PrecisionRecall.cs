using static TorchSharp.torch;

namespace Qdm.Metrics;

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019), as the ADM evaluator computes them with k = 3: each set's
/// manifold is the union of balls around its points with radius = distance to the k-th nearest neighbour in the set.
/// Precision: share of generated points inside the reference manifold; recall: share of reference points inside the
/// generated manifold. Distances are computed in row batches (memory O(batch·n)).
/// </summary>
public static class PrecisionRecall
{
    public static (double Precision, double Recall) Compute(Tensor reference, Tensor generated, int k = 3, int rowBatch = 1000)
    {
        using var scope = NewDisposeScope();
        var refF = reference.to(ScalarType.Float32);
        var genF = generated.to(ScalarType.Float32);
        var refRadii = KthNeighbourDistances(refF, k, rowBatch);
        var genRadii = KthNeighbourDistances(genF, k, rowBatch);
        return (InsideShare(genF, refF, refRadii, rowBatch), InsideShare(refF, genF, genRadii, rowBatch));
    }

    /// <summary>Squared distance of each point to its k-th nearest other point (the point itself is the 0-th).</summary>
    public static Tensor KthNeighbourDistances(Tensor features, int k, int rowBatch)
    {
        if (features.shape[0] <= k) throw new QdmInputException($"precision/recall with k = {k} needs more than {k} images per set.");
        var parts = new List<Tensor>();
        for (long start = 0; start < features.shape[0]; start += rowBatch)
        {
            using var scope = NewDisposeScope();   // a batch's distance rows are rowBatch × n: free them at once
            var rows = features[TensorIndex.Slice(start, Math.Min(start + rowBatch, features.shape[0]))];
            var d = SquaredDistances(rows, features);
            parts.Add(d.kthvalue(k + 1, 1).values.MoveToOuterDisposeScope());   // (k+1)-th smallest, counting the zero distance to itself
        }
        return cat(parts, 0);
    }

    /// <summary>Share of points lying within some manifold ball: ∃j ‖p − m_j‖² ≤ r_j².</summary>
    private static double InsideShare(Tensor points, Tensor manifold, Tensor radii, int rowBatch)
    {
        long inside = 0;
        for (long start = 0; start < points.shape[0]; start += rowBatch)
        {
            using var scope = NewDisposeScope();
            var rows = points[TensorIndex.Slice(start, Math.Min(start + rowBatch, points.shape[0]))];
            var d = SquaredDistances(rows, manifold);
            inside += (d <= radii.unsqueeze(0)).any(1).sum().item<long>();
        }
        return (double)inside / points.shape[0];
    }

    /// <summary>‖a_i − b_j‖² = ‖a_i‖² − 2a_i·b_j + ‖b_j‖², clamped at 0.</summary>
    private static Tensor SquaredDistances(Tensor a, Tensor b) =>
        (a.square().sum(1, keepdim: true) - 2 * a.matmul(b.t()) + b.square().sum(1).unsqueeze(0)).clamp_min(0);
}
