using Grpc.Core;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// The collection-level calls the store, the migrator and the factory share: the server version, a collection's config,
/// and the messages that create a collection, a payload index and a named vector.
/// </summary>
internal static class QdrantCollections
{
    /// <summary>The server version, from the health check (<c>qdrant.Qdrant/HealthCheck</c>).</summary>
    public static async Task<Version> ServerVersionAsync(QdrantClient client, QdrantCalls calls, CancellationToken cancellationToken)
    {
        var reply = await calls.RunAsync("HealthCheck", ct => client.HealthAsync(ct), cancellationToken).ConfigureAwait(false);
        return QdrantServerVersion.Parse(reply.Version);
    }

    /// <summary>
    /// The config of the collection or alias <paramref name="name"/> (which is <paramref name="collectionName"/> when
    /// known), or null when there is none.
    /// </summary>
    public static async Task<QdrantCollectionInfo?> ReadAsync(
        QdrantClient client, QdrantCalls calls, string name, string? collectionName, CancellationToken cancellationToken)
    {
        try
        {
            var info = await calls.RunAsync("GetCollectionInfo", ct => client.GetCollectionInfoAsync(name, ct), cancellationToken).ConfigureAwait(false);
            return Describe(name, collectionName ?? name, info);
        }
        catch (QdrantException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>What the adapter needs to know of a collection's config.</summary>
    /// <exception cref="QdrantException">The config has no vectors config.</exception>
    /// <exception cref="SchemaMismatchException">A projection marker in its metadata cannot be read.</exception>
    public static QdrantCollectionInfo Describe(string name, string collectionName, Proto.CollectionInfo info)
    {
        var parameters = info.Config?.Params ?? throw new QdrantException($"Qdrant's answer for collection '{name}' has no config.params.");
        QdrantVectorInfo? unnamed = null;
        var named = new Dictionary<string, QdrantVectorInfo>(StringComparer.Ordinal);
        switch (parameters.VectorsConfig?.ConfigCase)
        {
            case Proto.VectorsConfig.ConfigOneofCase.Params:
                unnamed = VectorInfo(parameters.VectorsConfig.Params);
                break;
            case Proto.VectorsConfig.ConfigOneofCase.ParamsMap:
                foreach (var (vectorName, vector) in parameters.VectorsConfig.ParamsMap.Map)
                {
                    named[vectorName] = VectorInfo(vector);
                }

                break;
        }

        var indexes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (keyPath, schema) in info.PayloadSchema)
        {
            indexes[keyPath] = SchemaTypeName(schema.DataType);
        }

        return new QdrantCollectionInfo
        {
            Name = name,
            CollectionName = collectionName,
            UnnamedVector = unnamed,
            NamedVectors = named,
            SparseVectorNames = parameters.SparseVectorsConfig?.Map.Keys.ToArray() ?? [],
            ShardNumber = (int)parameters.ShardNumber,
            ReplicationFactor = parameters.HasReplicationFactor ? (int)parameters.ReplicationFactor : 1,
            WriteConsistencyFactor = parameters.HasWriteConsistencyFactor ? (int)parameters.WriteConsistencyFactor : 1,
            PointsCount = info.HasPointsCount ? (long)info.PointsCount : null,
            PayloadIndexes = indexes,
            Projections = QdrantProjectionCodec.ReadMarkers(info.Config.Metadata, name),
        };
    }

    /// <summary>
    /// The create-collection message: the prefix vector with HNSW, the full vector without a graph (m = 0) and cold
    /// (<c>memory</c> on 1.19+, <c>on_disk</c> before), the cluster settings when set, and in the metadata the marker of
    /// the projection the prefix's keys are computed with, if any (Qdrant 1.16+).
    /// </summary>
    public static Proto.CreateCollection Create(string collection, QdrantCollectionSpec spec, QdrantProjectionInfo? projection = null)
    {
        var distance = Distance(spec.Metric);
        var prefix = new Proto.VectorParams { Size = (ulong)spec.PrefixDimensions, Distance = distance };
        if (spec.PrefixHnswM is not null || spec.PrefixHnswEfConstruct is not null)
        {
            prefix.HnswConfig = new Proto.HnswConfigDiff();
            if (spec.PrefixHnswM is { } m)
            {
                prefix.HnswConfig.M = (ulong)m;
            }

            if (spec.PrefixHnswEfConstruct is { } ef)
            {
                prefix.HnswConfig.EfConstruct = (ulong)ef;
            }
        }

        // m = 0: no HNSW graph for the full vector; it is read only to rescore candidates, so it stays cold on disk.
        var full = new Proto.VectorParams { Size = (ulong)spec.FullDimensions, Distance = distance, HnswConfig = new Proto.HnswConfigDiff { M = 0 } };
        if (spec.UseMemoryPlacement)
        {
            full.Memory = Proto.Memory.Cold;
        }
        else
        {
#pragma warning disable CS0612 // Deprecated since 1.19 in favour of `memory`, which 1.17 and 1.18 do not have.
            full.OnDisk = true;
#pragma warning restore CS0612
        }

        var map = new Proto.VectorParamsMap();
        map.Map[spec.PrefixVectorName] = prefix;
        map.Map[spec.FullVectorName] = full;
        var create = new Proto.CreateCollection { CollectionName = collection, VectorsConfig = new Proto.VectorsConfig { ParamsMap = map } };
        if (spec.ShardNumber is { } shards)
        {
            create.ShardNumber = (uint)shards;
        }

        if (spec.ReplicationFactor is { } replication)
        {
            create.ReplicationFactor = (uint)replication;
        }

        if (spec.WriteConsistencyFactor is { } consistency)
        {
            create.WriteConsistencyFactor = (uint)consistency;
        }

        if (projection is not null)
        {
            create.Metadata[QdrantProjectionCodec.MetadataKey(spec.PrefixVectorName)] = QdrantProjectionCodec.Marker(projection);
        }

        return create;
    }

    /// <summary>Whether a failed create failed because the collection exists (Qdrant answers <c>InvalidArgument</c> "already exists").</summary>
    public static bool IsAlreadyExists(QdrantException e) =>
        e.StatusCode is StatusCode.AlreadyExists ||
        (e.StatusCode is StatusCode.InvalidArgument && e.ServerError?.Contains("already exists", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The message that adds a dense named vector to an existing collection (<c>qdrant.Points/CreateVectorName</c>, Qdrant 1.18+).</summary>
    public static Proto.CreateVectorNameRequest CreateVector(string collection, string vectorName, int dimensions, DistanceMetric metric) => new()
    {
        CollectionName = collection,
        VectorName = vectorName,
        Wait = true,
        DenseConfig = new Proto.DenseVectorCreationConfig { Size = (ulong)dimensions, Distance = Distance(metric) },
    };

    /// <summary>Creates a payload index on a key path (<c>qdrant.Points/CreateFieldIndex</c>), waiting until it is built.</summary>
    public static Task CreatePayloadIndexAsync(
        QdrantClient client, QdrantCalls calls, string collection, string keyPath, Proto.PayloadSchemaType type, CancellationToken cancellationToken) =>
        calls.RunAsync("CreateFieldIndex", async ct =>
        {
            var result = await client.CreatePayloadIndexAsync(collection, keyPath, type, wait: true, cancellationToken: ct).ConfigureAwait(false);
            EnsureApplied(result, "CreateFieldIndex", collection);
        }, cancellationToken);

    /// <summary>Checks that a write with <c>wait</c> was applied.</summary>
    /// <exception cref="QdrantException">The server answered another status than completed.</exception>
    public static void EnsureApplied(Proto.UpdateResult result, string operation, string collection)
    {
        if (result.Status is not (Proto.UpdateStatus.Completed or Proto.UpdateStatus.Acknowledged))
        {
            throw new QdrantException(
                $"Qdrant {operation} on '{collection}' was not applied: the server answered status {result.Status}. With wait a write is applied " +
                "before the answer; WaitTimeout means the server gave up waiting, and the write may still be applied later.");
        }
    }

    public static Proto.Distance Distance(DistanceMetric metric) => metric switch
    {
        DistanceMetric.Cosine => Proto.Distance.Cosine,
        DistanceMetric.DotProduct => Proto.Distance.Dot,
        DistanceMetric.Euclidean => Proto.Distance.Euclid,
        DistanceMetric.Manhattan => Proto.Distance.Manhattan,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };

    /// <summary>The Qdrant payload schema type of an index type.</summary>
    public static Proto.PayloadSchemaType SchemaType(QdrantPayloadSchemaType type) => type switch
    {
        QdrantPayloadSchemaType.Keyword => Proto.PayloadSchemaType.Keyword,
        QdrantPayloadSchemaType.Integer => Proto.PayloadSchemaType.Integer,
        QdrantPayloadSchemaType.Float => Proto.PayloadSchemaType.Float,
        QdrantPayloadSchemaType.Bool => Proto.PayloadSchemaType.Bool,
        QdrantPayloadSchemaType.Datetime => Proto.PayloadSchemaType.Datetime,
        QdrantPayloadSchemaType.Uuid => Proto.PayloadSchemaType.Uuid,
        QdrantPayloadSchemaType.Text => Proto.PayloadSchemaType.Text,
        QdrantPayloadSchemaType.Geo => Proto.PayloadSchemaType.Geo,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown payload index type."),
    };

    /// <summary>The name Qdrant gives a payload schema type in its docs and REST API: <c>keyword</c>, <c>integer</c>, ...</summary>
    public static string SchemaTypeName(Proto.PayloadSchemaType type) => type.ToString().ToLowerInvariant();

    /// <summary>The payload schema type of a name <see cref="SchemaTypeName(Proto.PayloadSchemaType)"/> wrote.</summary>
    public static Proto.PayloadSchemaType ParseSchemaType(string name) =>
        Enum.TryParse<Proto.PayloadSchemaType>(name, ignoreCase: true, out var type) && type != Proto.PayloadSchemaType.UnknownType
            ? type
            : throw new QdrantException($"Unknown Qdrant payload index type '{name}'.");

    private static QdrantVectorInfo VectorInfo(Proto.VectorParams vector)
    {
        bool? onDisk = null;
#pragma warning disable CS0612 // 1.17 and 1.18 report cold storage as the deprecated on_disk.
        if (vector.HasOnDisk)
        {
            onDisk = vector.OnDisk;
        }
#pragma warning restore CS0612

        if (vector.HasMemory)
        {
            onDisk = vector.Memory == Proto.Memory.Cold;
        }

        return new QdrantVectorInfo(
            (int)vector.Size,
            vector.Distance.ToString(),
            vector.HnswConfig is { HasM: true } hnsw ? (int)hnsw.M : null,
            onDisk);
    }
}
