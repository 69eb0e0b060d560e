namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>How an existing collection gets its prefix vector.</summary>
public enum QdrantMigrationPath
{
    /// <summary>In place when the server and the collection allow it (Qdrant 1.18+, a named full vector), otherwise through a new collection.</summary>
    Auto,

    /// <summary>
    /// Add the prefix named vector to the existing collection (<c>qdrant.Points/CreateVectorName</c>, Qdrant 1.18+)
    /// and fill it by scrolling the points. Needs the full vector to be a named vector already.
    /// </summary>
    InPlace,

    /// <summary>
    /// Create a new collection with both named vectors, copy the points into it by scrolling, then point an alias at it
    /// in one atomic change. Works on any supported server and for a collection with an unnamed vector.
    /// </summary>
    NewCollection,
}
