using System.Globalization;
using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>The key <c>mrl inspect</c> recommends for pass 1.</summary>
internal enum KeyRecommendation
{
    /// <summary>The first values serve: the model front-loads its information.</summary>
    Truncate,

    /// <summary>A projected key finds the neighbours at an oversampling truncation does not.</summary>
    Projection,

    /// <summary>Neither short key finds the neighbours: index the full vector.</summary>
    Neither,
}

/// <summary>The share of the exact top-k each key finds among its first <c>k x oversampling</c> candidates.</summary>
internal sealed record KeyInspectionRow(int Oversampling, int Candidates, double Truncate, double Projection);

/// <summary>What <see cref="KeyInspection.Run"/> measured and what it recommends.</summary>
internal sealed record KeyInspectionResult(
    IReadOnlyList<KeyInspectionRow> Rows, int? TruncateReachesAt, int? ProjectionReachesAt, KeyRecommendation Recommendation, TimeSpan FitTime)
{
    /// <summary>One sentence a user can act on.</summary>
    public string Explain(int prefix, double target) => Recommendation switch
    {
        KeyRecommendation.Truncate when ProjectionReachesAt is { } p && p < TruncateReachesAt => string.Create(CultureInfo.InvariantCulture,
            $"Recommended: truncation. The first {prefix} values reach {target} at x{TruncateReachesAt}, the projected key at x{p}; both are fine, and truncation needs no fit."),
        KeyRecommendation.Truncate => string.Create(CultureInfo.InvariantCulture,
            $"Recommended: truncation. The first {prefix} values reach {target} at x{TruncateReachesAt}; a projected key gains nothing worth a fit."),
        KeyRecommendation.Projection => string.Create(CultureInfo.InvariantCulture,
            $"Recommended: projection (mrl fit-projection --prefix {prefix}). The projected key reaches {target} at x{ProjectionReachesAt}, truncation {(TruncateReachesAt is { } t ? $"only at x{t}" : "at none of the oversamplings tried")}."),
        _ => string.Create(CultureInfo.InvariantCulture,
            $"Recommended: neither. No key of {prefix} values reaches {target} within the oversamplings tried: the model keeps its information in no short key; index the full vector (or try a longer --prefix)."),
    };
}

/// <summary>
/// Measures on a sample how well the truncated prefix and a projected key find the exact top-k as pass-1 keys. Each key is
/// searched exactly in process, so the figures measure the key and not an index. The projection is fitted on the base rows
/// only: the held-out queries stay unseen, as a user's queries are.
/// </summary>
internal static class KeyInspection
{
    /// <summary>
    /// Truncation is recommended while it needs at most this factor of the projection's oversampling: the bar for a
    /// projection on rotated data, and below it the fit and the slower pgvector trigger do not pay.
    /// </summary>
    public const double TruncationSlack = 1.5;

    public static KeyInspectionResult Run(BenchDataset data, int prefix, int k, IReadOnlyList<int> oversampling, double target, CancellationToken cancellationToken)
    {
        if (prefix < 1 || prefix >= data.Dimensions)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--prefix {prefix}: a key must be shorter than the {data.Dimensions} full dimensions and at least 1."));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1, "--k");
        if (oversampling.Count == 0 || oversampling.Any(o => o < 1))
        {
            throw new ArgumentException("--oversampling: give factors of at least 1.");
        }

        var sorted = oversampling.Distinct().Order().ToArray();
        var truth = GroundTruth.Compute(data, k, _ => { });
        var width = truth.Dimensions;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var projection = ProjectionSample.Fit(data, prefix, null, cancellationToken);
        var fitTime = clock.Elapsed;

        var truncated = Found(data, new EmbeddingLayout(data.Dimensions, prefix, data.Metric), truth, sorted, cancellationToken);
        var projected = Found(data, new EmbeddingLayout(projection, data.Metric), truth, sorted, cancellationToken);
        var rows = new KeyInspectionRow[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            rows[i] = new KeyInspectionRow(sorted[i], Math.Min(width * sorted[i], data.Count), truncated[i], projected[i]);
        }

        int? truncateAt = rows.FirstOrDefault(r => r.Truncate >= target)?.Oversampling;
        int? projectionAt = rows.FirstOrDefault(r => r.Projection >= target)?.Oversampling;
        var recommendation = (truncateAt, projectionAt) switch
        {
            (null, null) => KeyRecommendation.Neither,
            ({ } t, { } p) when t > p * TruncationSlack => KeyRecommendation.Projection,
            (null, _) => KeyRecommendation.Projection,
            _ => KeyRecommendation.Truncate,
        };
        return new KeyInspectionResult(rows, truncateAt, projectionAt, recommendation, fitTime);
    }

    /// <summary>For each oversampling, the share of the exact top-k among the key's first <c>k x oversampling</c> candidates.</summary>
    private static double[] Found(BenchDataset data, EmbeddingLayout layout, VectorMatrix<int> truth, int[] oversampling, CancellationToken cancellationToken)
    {
        var n = data.Count;
        var p = layout.PrefixDimensions;
        var keys = new float[(long)n * p];
        Parallel.For(0, n, new ParallelOptions { CancellationToken = cancellationToken },
            i => layout.WritePrefix(data.Base.RowSpan(i), keys.AsSpan(i * p, p)));

        // As the in-memory store does: a normalized key ranks by the dot product.
        var keyMetric = layout.NormalizesPrefix ? DistanceMetric.DotProduct : layout.Metric;
        var width = truth.Dimensions;
        var widest = Math.Min(width * oversampling[^1], n);
        var hits = new long[oversampling.Length];
        Parallel.For(0, data.Queries.Rows, new ParallelOptions { CancellationToken = cancellationToken }, q =>
        {
            var candidates = ExactKnn.Search(keys, n, p, layout.ToPrefix(data.Queries.RowSpan(q)), widest, keyMetric);
            var exact = truth.RowSpan(q).ToArray();
            for (var i = 0; i < oversampling.Length; i++)
            {
                var first = Math.Min(width * oversampling[i], candidates.Length);
                var found = 0;
                for (var c = 0; c < first; c++)
                {
                    if (Array.IndexOf(exact, candidates[c].Index) >= 0)
                    {
                        found++;
                    }
                }

                Interlocked.Add(ref hits[i], found);
            }
        });

        var total = (double)data.Queries.Rows * width;
        return hits.Select(h => h / total).ToArray();
    }
}
