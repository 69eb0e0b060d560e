namespace Mrl.Adapters.Qdrant;

/// <summary>How far Qdrant is with a collection, from <c>qdrant.Collections/Get</c>.</summary>
/// <param name="Status"><c>green</c> (all done), <c>yellow</c> (optimizing, e.g. building HNSW), <c>grey</c> (optimizations pending, not triggered) or <c>red</c>.</param>
/// <param name="OptimizerError">The optimizers' error, or null when they report <c>ok</c>.</param>
/// <param name="PointsCount">Approximate number of points.</param>
/// <param name="IndexedVectorsCount">Approximate number of vectors held in an HNSW index.</param>
/// <param name="SegmentsCount">Number of segments.</param>
public sealed record QdrantCollectionStatus(string Status, string? OptimizerError, long PointsCount, long IndexedVectorsCount, int SegmentsCount)
{
    /// <summary>Whether every optimization, HNSW builds included, has finished.</summary>
    public bool IsGreen => string.Equals(Status, "green", StringComparison.Ordinal);
}
