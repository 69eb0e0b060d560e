namespace Mrl.Adapters.Qdrant;

/// <summary>Everything a create-collection request says: the two named vectors and the distribution settings.</summary>
internal sealed record QdrantCollectionSpec(
    string PrefixVectorName,
    int PrefixDimensions,
    string FullVectorName,
    int FullDimensions,
    DistanceMetric Metric,
    int? PrefixHnswM,
    int? PrefixHnswEfConstruct,
    int? ShardNumber,
    int? ReplicationFactor,
    int? WriteConsistencyFactor,
    bool UseMemoryPlacement)
{
    /// <summary>The collection the store's options describe, as a server of <paramref name="serverVersion"/> accepts it.</summary>
    public static QdrantCollectionSpec From(QdrantStoreOptions options, Version serverVersion)
    {
        var layout = options.Layout!;
        return new QdrantCollectionSpec(
            options.PrefixVectorName,
            layout.PrefixDimensions,
            options.FullVectorName,
            layout.FullDimensions,
            layout.Metric,
            options.PrefixHnswM,
            options.PrefixHnswEfConstruct,
            options.ShardNumber,
            options.ReplicationFactor,
            options.WriteConsistencyFactor,
            serverVersion >= QdrantServerVersion.MemoryPlacement);
    }
}
