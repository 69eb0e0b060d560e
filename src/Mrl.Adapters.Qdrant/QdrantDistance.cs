namespace Mrl.Adapters.Qdrant;

/// <summary>The Qdrant names of the core's metrics.</summary>
internal static class QdrantDistance
{
    public static string For(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => "Cosine",
        DistanceMetric.DotProduct => "Dot",
        DistanceMetric.Euclidean => "Euclid",
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };

    /// <summary>Qdrant reports Euclidean results as distances (lower is better); the core scores higher-is-better.</summary>
    public static float ToScore(DistanceMetric metric, float qdrantScore) => metric == DistanceMetric.Euclidean ? -qdrantScore : qdrantScore;
}
