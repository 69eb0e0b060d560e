using System.Globalization;
using System.Numerics.Tensors;

namespace Mrl.Adapters;

/// <summary>
/// Fits a <see cref="PrefixProjection"/>: the top principal directions of a sample of the user's own full vectors, found
/// by randomized subspace iteration on <see cref="TensorPrimitives"/>.
/// </summary>
/// <remarks>
/// <para>
/// For <see cref="DistanceMetric.Cosine"/> and <see cref="DistanceMetric.DotProduct"/> the directions are those of the
/// uncentred second-moment matrix <c>Σ x xᵀ</c> (for Cosine of the unit-length rows). Those directions minimize the
/// expected squared error of <c>Pᵀ P x</c> against <c>x</c>, so <c>⟨P q, P x⟩</c> is the best rank-p approximation of
/// <c>⟨q, x⟩</c> that one matrix can give, the mean direction included: every embedding model's vectors share a large
/// mean, and the component along it differs from row to row and ranks candidates. Centring would drop it from the key.
/// </para>
/// <para>
/// For <see cref="DistanceMetric.Euclidean"/> and <see cref="DistanceMetric.Manhattan"/> they are those of the
/// covariance (centred): a distance depends on differences <c>x - q</c> only, in which the mean cancels, so the
/// variance around the mean is what the key must keep.
/// </para>
/// </remarks>
public static class ProjectionFitter
{
    /// <summary>The sample size the tools use by default.</summary>
    public const int DefaultSampleSize = 20_000;

    private const int DefaultIterations = 4;
    private const int RowBlock = 64;
    private const int DirectionBlock = 16;

    /// <summary>
    /// Fits the top <paramref name="prefixDimensions"/> principal directions of <paramref name="sample"/>, ordered by
    /// the variance they carry, as a projection of version <paramref name="version"/>.
    /// </summary>
    /// <param name="sample">Rows of <paramref name="fullDimensions"/> values, row-major; at least one row.</param>
    /// <param name="fullDimensions">The full dimensions (D).</param>
    /// <param name="prefixDimensions">The key dimensions (p), at most D.</param>
    /// <param name="metric">The metric the key serves; it decides centred or uncentred (see the remarks).</param>
    /// <param name="version">The version the projection gets.</param>
    /// <param name="seed">Seeds the random start, so equal inputs give equal projections.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <exception cref="ArgumentException">The sample is empty, not a whole number of rows, or holds a non-finite value.</exception>
    public static PrefixProjection Fit(ReadOnlyMemory<float> sample, int fullDimensions, int prefixDimensions, DistanceMetric metric,
        int version = 1, int seed = 1, CancellationToken cancellationToken = default) =>
        Fit(sample, fullDimensions, prefixDimensions, CentresFor(metric), metric == DistanceMetric.Cosine, version, seed, DefaultIterations, cancellationToken);

    /// <summary>
    /// As <see cref="Fit(ReadOnlyMemory{float}, int, int, DistanceMetric, int, int, CancellationToken)"/>, fitted around the
    /// mean when <paramref name="centred"/> is true whatever the metric: for measuring one choice against the other.
    /// </summary>
    /// <exception cref="ArgumentException">The sample is empty, not a whole number of rows, or holds a non-finite value.</exception>
    public static PrefixProjection Fit(ReadOnlyMemory<float> sample, int fullDimensions, int prefixDimensions, DistanceMetric metric, bool centred,
        int version = 1, int seed = 1, CancellationToken cancellationToken = default) =>
        Fit(sample, fullDimensions, prefixDimensions, centred, metric == DistanceMetric.Cosine, version, seed, DefaultIterations, cancellationToken);

    /// <summary>Whether the directions of <paramref name="metric"/> are fitted around the mean (see the remarks of the class).</summary>
    public static bool CentresFor(DistanceMetric metric) => metric is DistanceMetric.Euclidean or DistanceMetric.Manhattan;

    /// <summary>
    /// The share of <paramref name="sample"/>'s variance that <paramref name="projection"/> keeps, from 0 to 1: the quantity
    /// <see cref="Fit(ReadOnlyMemory{float}, int, int, DistanceMetric, int, int, CancellationToken)"/> maximizes, with the same
    /// centring and row weights for <paramref name="metric"/>. Measured on rows neither projection was fitted on, it compares a
    /// key in use with a new fit: data that drifted away from the key in use shows as a new fit keeping clearly more.
    /// </summary>
    /// <exception cref="ArgumentException">The sample is empty, not a whole number of rows of the projection's columns, or holds a non-finite value.</exception>
    public static double KeptVariance(ReadOnlyMemory<float> sample, PrefixProjection projection, DistanceMetric metric)
    {
        ArgumentNullException.ThrowIfNull(projection);
        var d = projection.Columns;
        if (sample.Length == 0 || sample.Length % d != 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The sample must be a non-empty whole number of {d}-dimension rows, got {sample.Length} values."),
                nameof(sample));
        }

        var n = sample.Length / d;
        var x = sample.Span;
        float[]? mean = null;
        if (CentresFor(metric))
        {
            mean = new float[d];
            for (var i = 0; i < n; i++)
            {
                TensorPrimitives.Add(mean, x.Slice(i * d, d), mean);
            }

            TensorPrimitives.Divide(mean, n, mean);
        }

        var centredRow = new float[d];
        var key = new float[projection.Rows];
        double kept = 0;
        double total = 0;
        for (var i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.Slice(i * d, d);
            if (mean is not null)
            {
                TensorPrimitives.Subtract(row, mean, centredRow);
                row = centredRow;
            }

            var sumOfSquares = TensorPrimitives.SumOfSquares(row);
            if (!float.IsFinite(sumOfSquares))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Sample row {i} holds a NaN or infinite value."), nameof(sample));
            }

            // As in the fit: for Cosine each row counts as its unit vector would.
            var weight = metric == DistanceMetric.Cosine ? (sumOfSquares > 0f ? 1.0 / sumOfSquares : 0.0) : 1.0;
            projection.Project(row, key);
            kept += weight * TensorPrimitives.SumOfSquares(key);
            total += weight * sumOfSquares;
        }

        return total > 0 ? Math.Min(1.0, kept / total) : 0.0;
    }

    internal static PrefixProjection Fit(ReadOnlyMemory<float> sample, int fullDimensions, int prefixDimensions, bool centred, bool unitRows,
        int version, int seed, int iterations, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fullDimensions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixDimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixDimensions, fullDimensions);
        if (sample.Length == 0 || sample.Length % fullDimensions != 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The sample must be a non-empty whole number of {fullDimensions}-dimension rows, got {sample.Length} values."),
                nameof(sample));
        }

        var d = fullDimensions;
        var n = sample.Length / d;
        var x = sample.Span;
        var weights = new float[n];
        for (var i = 0; i < n; i++)
        {
            var sumOfSquares = TensorPrimitives.SumOfSquares(x.Slice(i * d, d));
            if (!float.IsFinite(sumOfSquares))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Sample row {i} holds a NaN or infinite value."), nameof(sample));
            }

            // Cosine compares directions only: each row counts as its unit vector would.
            weights[i] = unitRows ? (sumOfSquares > 0f ? 1f / sumOfSquares : 0f) : 1f;
        }

        float[]? mean = null;
        if (centred)
        {
            mean = new float[d];
            for (var i = 0; i < n; i++)
            {
                TensorPrimitives.Add(mean, x.Slice(i * d, d), mean);
            }

            TensorPrimitives.Divide(mean, n, mean);
        }

        var p = prefixDimensions;
        var basis = new float[p * d];
        var random = new Random(seed);
        for (var i = 0; i < basis.Length; i++)
        {
            basis[i] = (float)Gaussian(random);
        }

        Orthonormalize(basis, p, d, random);
        var products = new float[p * n];
        var norms = new double[p];
        for (var iteration = 0; iteration < iterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            MultiplyRows(sample, n, d, basis, p, mean, products);
            MultiplyTransposed(sample, n, d, products, p, weights, mean, basis);
            for (var j = 0; j < p; j++)
            {
                norms[j] = TensorPrimitives.Norm(basis.AsSpan(j * d, d));
            }

            // The norms after one more multiplication rank the directions by the variance they carry; the strongest go
            // first, so that Gram-Schmidt keeps them as they are and the key's leading values are its most informative.
            SortRowsByNorm(basis, norms, p, d);
            Orthonormalize(basis, p, d, random);
        }

        return new PrefixProjection(p, d, basis, version);
    }

    // products[j * n + i] = <x_i - mean, q_j>
    private static void MultiplyRows(ReadOnlyMemory<float> sample, int n, int d, float[] basis, int p, float[]? mean, float[] products)
    {
        var blocks = (n + RowBlock - 1) / RowBlock;
        Parallel.For(0, blocks, block =>
        {
            var x = sample.Span;
            var end = Math.Min(n, (block + 1) * RowBlock);
            for (var j = 0; j < p; j++)
            {
                var q = basis.AsSpan(j * d, d);
                var shift = mean is null ? 0f : TensorPrimitives.Dot(mean, q);
                for (var i = block * RowBlock; i < end; i++)
                {
                    products[(j * n) + i] = TensorPrimitives.Dot(x.Slice(i * d, d), q) - shift;
                }
            }
        });
    }

    // basis_j = Σ_i w_i products[j, i] (x_i - mean)
    private static void MultiplyTransposed(ReadOnlyMemory<float> sample, int n, int d, float[] products, int p, float[] weights, float[]? mean, float[] basis)
    {
        var blocks = (p + DirectionBlock - 1) / DirectionBlock;
        Parallel.For(0, blocks, block =>
        {
            var x = sample.Span;
            var start = block * DirectionBlock;
            var end = Math.Min(p, start + DirectionBlock);
            var rows = basis.AsSpan(start * d, (end - start) * d);
            rows.Clear();
            var coefficients = new float[end - start];
            for (var i = 0; i < n; i++)
            {
                var row = x.Slice(i * d, d);
                for (var j = start; j < end; j++)
                {
                    var c = weights[i] * products[(j * n) + i];
                    coefficients[j - start] += c;
                    var target = basis.AsSpan(j * d, d);
                    TensorPrimitives.MultiplyAdd(row, c, target, target);
                }
            }

            if (mean is not null)
            {
                for (var j = start; j < end; j++)
                {
                    var target = basis.AsSpan(j * d, d);
                    TensorPrimitives.MultiplyAdd(mean, -coefficients[j - start], target, target);
                }
            }
        });
    }

    private static void SortRowsByNorm(float[] basis, double[] norms, int p, int d)
    {
        var order = Enumerable.Range(0, p).OrderByDescending(j => norms[j]).ToArray();
        var sorted = new float[basis.Length];
        for (var j = 0; j < p; j++)
        {
            basis.AsSpan(order[j] * d, d).CopyTo(sorted.AsSpan(j * d, d));
        }

        sorted.CopyTo(basis, 0);
    }

    // Modified Gram-Schmidt, twice ("twice is enough") so that float rounding leaves the rows orthonormal to ~1e-6. A row
    // that vanishes (the sample spans fewer than p directions) is replaced by a random one, so the result always has p rows.
    private static void Orthonormalize(float[] basis, int p, int d, Random random)
    {
        for (var pass = 0; pass < 2; pass++)
        {
            for (var k = 0; k < p; k++)
            {
                var row = basis.AsSpan(k * d, d);
                var norm = TensorPrimitives.Norm(row);
                while (!(norm > 1e-4f))
                {
                    for (var i = 0; i < d; i++)
                    {
                        row[i] = (float)Gaussian(random);
                    }

                    for (var j = 0; j < k; j++)
                    {
                        var previous = basis.AsSpan(j * d, d);
                        TensorPrimitives.MultiplyAdd(previous, -TensorPrimitives.Dot(row, previous), row, row);
                    }

                    norm = TensorPrimitives.Norm(row);
                }

                TensorPrimitives.Divide(row, norm, row);
                var done = k;
                if (p - k - 1 > 64)
                {
                    Parallel.For(k + 1, p, j => RemoveComponent(basis, d, done, j));
                }
                else
                {
                    for (var j = k + 1; j < p; j++)
                    {
                        RemoveComponent(basis, d, done, j);
                    }
                }
            }
        }
    }

    private static void RemoveComponent(float[] basis, int d, int along, int from)
    {
        var unit = basis.AsSpan(along * d, d);
        var target = basis.AsSpan(from * d, d);
        TensorPrimitives.MultiplyAdd(unit, -TensorPrimitives.Dot(target, unit), target, target);
    }

    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
