using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// How a vector property's MEVD distance function maps onto the store's metric, and the store's score (higher is
/// better) onto the score MEVD documents for that function (a distance for the distance functions).
/// </summary>
internal readonly record struct ScoreMapping(DistanceMetric Metric, Func<float, double> Convert, bool HigherIsBetter)
{
    /// <exception cref="NotSupportedException">The distance function has no counterpart in the stores.</exception>
    public static ScoreMapping For(VectorPropertyModel property) => property.DistanceFunction switch
    {
        null or DistanceFunction.CosineSimilarity => new(DistanceMetric.Cosine, s => s, true),
        DistanceFunction.CosineDistance => new(DistanceMetric.Cosine, s => 1 - (double)s, false),
        DistanceFunction.DotProductSimilarity => new(DistanceMetric.DotProduct, s => s, true),
        DistanceFunction.NegativeDotProductSimilarity => new(DistanceMetric.DotProduct, s => -(double)s, false),
        DistanceFunction.EuclideanDistance => new(DistanceMetric.Euclidean, s => -(double)s, false),
        DistanceFunction.EuclideanSquaredDistance => new(DistanceMetric.Euclidean, s => (double)s * s, false),
        DistanceFunction.ManhattanDistance => new(DistanceMetric.Manhattan, s => -(double)s, false),
        var other => throw new NotSupportedException(
            $"Distance function '{other}' on vector property '{property.ModelName}' is not supported; use {DistanceFunction.CosineSimilarity}, " +
            $"{DistanceFunction.CosineDistance}, {DistanceFunction.DotProductSimilarity}, {DistanceFunction.NegativeDotProductSimilarity}, " +
            $"{DistanceFunction.EuclideanDistance}, {DistanceFunction.EuclideanSquaredDistance} or {DistanceFunction.ManhattanDistance}."),
    };

    /// <summary>Whether a converted score passes the threshold as MEVD defines it for this function.</summary>
    public bool Passes(double score, double threshold) => HigherIsBetter ? score >= threshold : score <= threshold;
}
