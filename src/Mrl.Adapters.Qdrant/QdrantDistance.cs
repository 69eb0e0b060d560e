namespace Mrl.Adapters.Qdrant;

/// <summary>The Qdrant names of the core's metrics.</summary>
internal static class QdrantDistance
{
    public static string For(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "Cosine",
        DistanceMetric.DotProduct => "Dot",
        DistanceMetric.Euclidean => "Euclid",
        DistanceMetric.Manhattan => "Manhattan",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };

    /// <summary>The core's metric of a Qdrant distance name (<c>Cosine</c>, <c>Dot</c>, <c>Euclid</c>, <c>Manhattan</c>); null for any other.</summary>
    public static DistanceMetric? Metric(string distance) => distance switch
    {
        "Cosine" => DistanceMetric.Cosine,
        "Dot" => DistanceMetric.DotProduct,
        "Euclid" => DistanceMetric.Euclidean,
        "Manhattan" => DistanceMetric.Manhattan,
        _ => null,
    };

    /// <summary>Qdrant reports Euclidean and Manhattan results as distances (lower is better); the core scores higher-is-better.</summary>
    public static float ToScore(DistanceMetric metric, float qdrantScore) =>
        metric is DistanceMetric.Euclidean or DistanceMetric.Manhattan ? -qdrantScore : qdrantScore;
}
