using System.Numerics.Tensors;

namespace Mrl.Adapters;

/// <summary>
/// Exact k-nearest-neighbour search by brute force over a row-major matrix, parallel across cores and SIMD within a row.
/// It is the in-memory store's pass 1 and the ground truth that recall is measured against.
/// </summary>
public static class ExactKnn
{
    private const int RowsPerPartitionFloor = 4_096;

    /// <summary>Returns the indices and scores of the <paramref name="k"/> best rows, best first.</summary>
    /// <param name="matrix">Rows of <paramref name="dimensions"/> values, back to back.</param>
    /// <param name="rows">How many rows of <paramref name="matrix"/> to search, from the start.</param>
    /// <param name="dimensions">Values per row; the query's length.</param>
    /// <param name="query">The query vector.</param>
    /// <param name="k">How many rows to return.</param>
    /// <param name="metric">How rows are scored; use <see cref="DistanceMetric.DotProduct"/> for unit vectors, it skips the norms.</param>
    /// <param name="include">Optional row predicate, e.g. a payload filter.</param>
    public static (int Index, float Score)[] Search(
        ReadOnlyMemory<float> matrix, int rows, int dimensions, ReadOnlyMemory<float> query, int k, DistanceMetric metric, Func<int, bool>? include = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfNotEqual(query.Length, dimensions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)rows * dimensions, matrix.Length);
        if (rows == 0)
        {
            return [];
        }

        var partitions = Math.Clamp(rows / RowsPerPartitionFloor, 1, Environment.ProcessorCount);
        if (partitions == 1)
        {
            var heap = new TopK(Math.Min(k, rows));
            ScanRange(matrix.Span, 0, rows, dimensions, query.Span, metric, include, heap);
            return heap.ToSortedDescending();
        }

        var partial = new TopK[partitions];
        Parallel.For(0, partitions, p =>
        {
            var start = (int)((long)rows * p / partitions);
            var end = (int)((long)rows * (p + 1) / partitions);
            var heap = new TopK(Math.Min(k, end - start));
            ScanRange(matrix.Span, start, end, dimensions, query.Span, metric, include, heap);
            partial[p] = heap;
        });

        var merged = new TopK(Math.Min(k, rows));
        foreach (var heap in partial)
        {
            merged.Merge(heap);
        }

        return merged.ToSortedDescending();
    }

    private static void ScanRange(
        ReadOnlySpan<float> matrix, int start, int end, int dimensions, ReadOnlySpan<float> query, DistanceMetric metric, Func<int, bool>? include, TopK heap)
    {
        for (var row = start; row < end; row++)
        {
            if (include is not null && !include(row))
            {
                continue;
            }

            var vector = matrix.Slice(row * dimensions, dimensions);
            var score = metric switch
            {
                DistanceMetric.DotProduct => TensorPrimitives.Dot(vector, query),
                DistanceMetric.Euclidean => -TensorPrimitives.Distance(vector, query),
                DistanceMetric.Manhattan => -VectorMath.ManhattanDistance(vector, query),
                _ => TensorPrimitives.CosineSimilarity(vector, query),
            };
            heap.Offer(score, row);
        }
    }
}
