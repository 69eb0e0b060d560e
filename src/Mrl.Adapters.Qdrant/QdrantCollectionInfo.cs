namespace Mrl.Adapters.Qdrant;

/// <summary>What the adapter needs to know about an existing collection: its vectors, distribution and payload indexes.</summary>
public sealed record QdrantCollectionInfo
{
    /// <summary>The name it was asked for by: a collection name or an alias.</summary>
    public required string Name { get; init; }

    /// <summary>The collection itself: <see cref="Name"/>, or the collection the alias <see cref="Name"/> points to.</summary>
    public required string CollectionName { get; init; }

    /// <summary>Whether <see cref="Name"/> is an alias.</summary>
    public bool IsAlias => !string.Equals(Name, CollectionName, StringComparison.Ordinal);

    /// <summary>The single unnamed vector, when the collection was created with one (<c>"vectors": {"size": ...}</c>).</summary>
    public QdrantVectorInfo? UnnamedVector { get; init; }

    /// <summary>The named dense vectors, by name; empty when the collection has an unnamed vector.</summary>
    public IReadOnlyDictionary<string, QdrantVectorInfo> NamedVectors { get; init; } = new Dictionary<string, QdrantVectorInfo>();

    /// <summary>The names of its sparse vectors.</summary>
    public IReadOnlyList<string> SparseVectorNames { get; init; } = [];

    /// <summary>Its <c>shard_number</c>.</summary>
    public int ShardNumber { get; init; } = 1;

    /// <summary>Its <c>replication_factor</c>.</summary>
    public int ReplicationFactor { get; init; } = 1;

    /// <summary>Its <c>write_consistency_factor</c>.</summary>
    public int WriteConsistencyFactor { get; init; } = 1;

    /// <summary>How many points it holds, when the server says (an approximation while it indexes).</summary>
    public long? PointsCount { get; init; }

    /// <summary>Its payload indexes: key path (as Qdrant writes it) to index type as Qdrant names it (<c>keyword</c>, <c>integer</c>, ...).</summary>
    public IReadOnlyDictionary<string, string> PayloadIndexes { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// The projections its prefix vectors' keys are computed with, by prefix vector name, as its metadata records them
    /// (Qdrant 1.16+); a prefix vector without an entry holds truncated keys, or keys of a projection kept elsewhere.
    /// </summary>
    public IReadOnlyDictionary<string, QdrantProjectionInfo> Projections { get; init; } = new Dictionary<string, QdrantProjectionInfo>();

    /// <summary>Whether it has a payload index on the field <paramref name="keyPath"/> addresses, however Qdrant writes that key.</summary>
    internal bool HasPayloadIndex(string keyPath) => PayloadIndexes.Keys.Any(k => QdrantFilterTranslator.SameKeyPath(k, keyPath));
}
