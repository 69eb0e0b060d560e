namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>
/// What to migrate and how. The collection, the layout, the vector names, the payload indexes and the connection come
/// from the <see cref="QdrantStoreOptions"/> of the store that will use the collection afterwards.
/// </summary>
public sealed class QdrantMigrationOptions
{
    /// <summary>The path to take. Default <see cref="QdrantMigrationPath.Auto"/>.</summary>
    public QdrantMigrationPath Path { get; set; } = QdrantMigrationPath.Auto;

    /// <summary>
    /// The existing vector that holds the full embeddings. Null: the store's <see cref="QdrantStoreOptions.FullVectorName"/>
    /// when the collection has it, or the collection's single unnamed vector.
    /// </summary>
    public string? SourceVectorName { get; set; }

    /// <summary>The collection the new-collection path creates. Default: the existing collection's name followed by <c>-mrl</c>.</summary>
    public string? TargetCollection { get; set; }

    /// <summary>
    /// The alias readers use, switched to the new collection at the end of the new-collection path. Default: the store's
    /// <see cref="QdrantStoreOptions.Collection"/> when that is already an alias. It cannot be the name of a collection.
    /// </summary>
    public string? Alias { get; set; }

    /// <summary>Points per scroll page. Default 256.</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// Resume the backfill or copy from this point id: the <see cref="QdrantMigrationProgress.Checkpoint"/> of an
    /// interrupted run. Null starts at the first point.
    /// </summary>
    public QdrantPointId? ResumeFrom { get; set; }
}
