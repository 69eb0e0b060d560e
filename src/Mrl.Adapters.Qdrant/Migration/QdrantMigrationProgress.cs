namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>How far a migration's backfill or copy has come; reported after every page.</summary>
/// <param name="Phase"><c>backfill</c> (in place) or <c>copy</c> (new collection).</param>
/// <param name="PointsDone">Points read and written so far in this run.</param>
/// <param name="PointsTotal">How many points the collection held when the plan was made, if the server said.</param>
/// <param name="PointsWithoutPrefix">Points so far whose full vector was missing or had no prefix to normalize; they get no prefix vector.</param>
/// <param name="Checkpoint">Where the next page starts: pass it as <see cref="QdrantMigrationOptions.ResumeFrom"/> to resume; null when done.</param>
public readonly record struct QdrantMigrationProgress(string Phase, long PointsDone, long? PointsTotal, long PointsWithoutPrefix, QdrantPointId? Checkpoint);
