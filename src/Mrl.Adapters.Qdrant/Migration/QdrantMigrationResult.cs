namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>What a migration did.</summary>
/// <param name="Path">The path it took.</param>
/// <param name="Collection">The name the store should use from now on: the collection (in place) or the alias (new collection).</param>
/// <param name="PointsProcessed">Points read and written in this run.</param>
/// <param name="PointsWithoutPrefix">Points whose full vector was missing or had no prefix to normalize: they have no prefix vector and pass 1 cannot find them.</param>
/// <param name="SomePointsWithoutPrefix">The first of those points (at most 100), to look at.</param>
public sealed record QdrantMigrationResult(
    QdrantMigrationPath Path, string Collection, long PointsProcessed, long PointsWithoutPrefix, IReadOnlyList<QdrantPointId> SomePointsWithoutPrefix);
