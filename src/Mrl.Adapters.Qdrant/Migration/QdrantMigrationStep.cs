namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>One step of a migration plan.</summary>
internal abstract record QdrantMigrationStep;

/// <summary>Send one request: create a vector, a collection or a payload index, or switch an alias.</summary>
internal sealed record SendStep(QdrantRequest Request) : QdrantMigrationStep;

/// <summary>Scroll <paramref name="Collection"/> and set each point's prefix vector from its full vector.</summary>
internal sealed record BackfillStep(string Collection, string FullVectorName) : QdrantMigrationStep;

/// <summary>Scroll <paramref name="Source"/> and write each point, with both vectors and its payload, into <paramref name="Target"/>.</summary>
internal sealed record CopyStep(string Source, string? SourceVectorName, string Target) : QdrantMigrationStep;
