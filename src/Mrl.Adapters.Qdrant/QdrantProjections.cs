using System.Globalization;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// The calls that store a projection beside a collection, switch the collection's marker to it, and read it back; the
/// store and the migrator share them. <see cref="QdrantProjectionCodec"/> says what is written.
/// </summary>
internal static class QdrantProjections
{
    // The most bytes of directions one scroll page brings back, well under gRPC's default 4 MB answer limit.
    private const int PageBytes = 2 * 1024 * 1024;

    /// <summary>
    /// The message that creates a side collection: one unnamed vector of the full dimensions under <c>Dot</c> (which keeps
    /// values as written; <c>Cosine</c> would renormalize them and change the checksum), without an HNSW graph, in one shard
    /// replicated as the store's collection is.
    /// </summary>
    public static Proto.CreateCollection CreateCollection(string name, int columns, QdrantStoreOptions options)
    {
        var create = new Proto.CreateCollection
        {
            CollectionName = name,
            ShardNumber = 1,
            VectorsConfig = new Proto.VectorsConfig
            {
                Params = new Proto.VectorParams { Size = (ulong)columns, Distance = Proto.Distance.Dot, HnswConfig = new Proto.HnswConfigDiff { M = 0 } },
            },
        };
        if (options.ReplicationFactor is { } replication)
        {
            create.ReplicationFactor = (uint)replication;
        }

        if (options.WriteConsistencyFactor is { } consistency)
        {
            create.WriteConsistencyFactor = (uint)consistency;
        }

        return create;
    }

    /// <summary>The collection update that points the marker of <paramref name="prefixVectorName"/> at <paramref name="info"/> (merged into the metadata).</summary>
    public static Proto.UpdateCollection Switch(string collection, string prefixVectorName, QdrantProjectionInfo info) => new()
    {
        CollectionName = collection,
        Metadata = { [QdrantProjectionCodec.MetadataKey(prefixVectorName)] = QdrantProjectionCodec.Marker(info) },
    };

    /// <summary>
    /// Writes the directions of <paramref name="projection"/> into the side collection <paramref name="collection"/>,
    /// creating it and its payload index on the version when missing. Directions of that version already stored with the
    /// same values (an earlier, interrupted run) are written again; with other values the call fails, as keys may already
    /// be computed with them.
    /// </summary>
    /// <exception cref="SchemaMismatchException">The side collection is not one for these directions, or holds other directions under this version.</exception>
    public static async Task StoreAsync(
        QdrantClient client, QdrantCalls calls, PrefixProjection projection, string collection, QdrantStoreOptions options, CancellationToken cancellationToken)
    {
        var side = calls.For(collection);
        var info = await QdrantCollections.ReadAsync(client, side, collection, null, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            var create = CreateCollection(collection, projection.Columns, options);
            try
            {
                await side.RunAsync("CreateCollection", ct => client.CreateCollectionAsync(create, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (QdrantException e) when (QdrantCollections.IsAlreadyExists(e))
            {
                // Another process created it between our look and our create.
            }

            info = await QdrantCollections.ReadAsync(client, side, collection, null, cancellationToken).ConfigureAwait(false)
                   ?? throw new QdrantException($"Qdrant collection '{collection}' was created but cannot be read back.");
        }

        if (info.UnnamedVector is not { } vector || vector.Size != projection.Columns || vector.Distance != QdrantDistance.For(DistanceMetric.DotProduct))
        {
            throw new SchemaMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"Qdrant collection '{collection}' exists but does not hold projection directions of {projection.Columns} dimensions (one unnamed Dot vector of that size). " +
                $"Another collection has its name: rename or remove it."));
        }

        if (!info.HasPayloadIndex(QdrantProjectionCodec.VersionField))
        {
            await QdrantCollections.CreatePayloadIndexAsync(client, side, collection, QdrantProjectionCodec.VersionField, Proto.PayloadSchemaType.Integer, cancellationToken)
                .ConfigureAwait(false);
        }

        var stored = await ReadDirectionsAsync(client, side, collection, projection.Version, projection.Columns, options.ReadConsistency, cancellationToken)
            .ConfigureAwait(false);
        if (stored.Count > 0 && !Match(stored, projection))
        {
            throw new SchemaMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"Qdrant collection '{collection}' already holds directions of projection version {projection.Version} that differ from those being stored. " +
                $"A version is written once, since keys may be computed with it: fit with QdrantMigrator.FitProjectionAsync, which takes the next free version."));
        }

        if (stored.Count == projection.Rows)
        {
            return;
        }

        var points = QdrantProjectionCodec.Points(projection);
        var envelope = new Proto.UpsertPoints { CollectionName = collection, Wait = true };
        foreach (var batch in QdrantAdaptiveStore<long>.Batches(points, options.MaxRequestBytes, envelope, i => $"Direction {i} of {projection}"))
        {
            await side.RunAsync("Upsert", async ct =>
            {
                var result = await client.UpsertAsync(collection, batch, wait: true, cancellationToken: ct).ConfigureAwait(false);
                QdrantCollections.EnsureApplied(result, "Upsert", collection);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Points the marker of <paramref name="prefixVectorName"/> in <paramref name="collection"/>'s metadata at <paramref name="info"/>, in one update.</summary>
    public static Task SwitchAsync(
        QdrantClient client, QdrantCalls calls, string collection, string prefixVectorName, QdrantProjectionInfo info, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, Proto.Value>(StringComparer.Ordinal)
        {
            [QdrantProjectionCodec.MetadataKey(prefixVectorName)] = QdrantProjectionCodec.Marker(info),
        };
        return calls.RunAsync("UpdateCollection", ct => client.UpdateCollectionAsync(collection, metadata, cancellationToken: ct), cancellationToken);
    }

    /// <summary>The projection a marker names, read from its side collection and checked against the marker.</summary>
    /// <exception cref="SchemaMismatchException">The side collection or some of the version's directions are missing, or the values do not match the marker.</exception>
    public static async Task<PrefixProjection> ReadAsync(
        QdrantClient client, QdrantCalls calls, QdrantProjectionInfo info, string owner, Proto.ReadConsistency? consistency, CancellationToken cancellationToken)
    {
        List<Proto.RetrievedPoint> points;
        try
        {
            points = await ReadDirectionsAsync(client, calls.For(info.Collection), info.Collection, info.Version, info.Columns, consistency, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (QdrantException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
            throw QdrantProjectionCodec.Corrupt(info, owner, "that collection does not exist", e);
        }

        return QdrantProjectionCodec.Assemble(info, points, owner);
    }

    /// <summary>The highest projection version stored in the side collection <paramref name="collection"/>; 0 when it has none or does not exist.</summary>
    public static async Task<int> LatestVersionAsync(QdrantClient client, QdrantCalls calls, string collection, CancellationToken cancellationToken)
    {
        var side = calls.For(collection);
        if (await QdrantCollections.ReadAsync(client, side, collection, null, cancellationToken).ConfigureAwait(false) is null)
        {
            return 0;
        }

        // The version is the high half of every direction's id, so the ids alone tell it.
        var latest = 0;
        Proto.PointId? offset = null;
        do
        {
            var page = await side.RunAsync("Scroll", ct => client.ScrollAsync(collection, limit: 1_000, offset: offset,
                payloadSelector: new Proto.WithPayloadSelector { Enable = false }, vectorsSelector: new Proto.WithVectorsSelector { Enable = false },
                cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                if (point.Id.PointIdOptionsCase == Proto.PointId.PointIdOptionsOneofCase.Num)
                {
                    latest = Math.Max(latest, (int)Math.Min(int.MaxValue, point.Id.Num >> 32));
                }
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null);
        return latest;
    }

    /// <summary>The scroll that reads one page of a version's directions, with their vectors and payloads.</summary>
    public static Proto.ScrollPoints Scroll(string collection, int version, int columns) => new()
    {
        CollectionName = collection,
        Filter = QdrantFilterTranslator.Translate(Filter.Eq(QdrantProjectionCodec.VersionField, version)),
        Limit = (uint)Math.Clamp(PageBytes / (columns * sizeof(float) + 64), 1, 1_000),
        WithPayload = new Proto.WithPayloadSelector { Enable = true },
        WithVectors = new Proto.WithVectorsSelector { Enable = true },
    };

    private static async Task<List<Proto.RetrievedPoint>> ReadDirectionsAsync(
        QdrantClient client, QdrantCalls side, string collection, int version, int columns, Proto.ReadConsistency? consistency, CancellationToken cancellationToken)
    {
        var scroll = Scroll(collection, version, columns);
        var points = new List<Proto.RetrievedPoint>();
        Proto.PointId? offset = null;
        do
        {
            var page = await side.RunAsync("Scroll", ct => client.ScrollAsync(collection, scroll.Filter, scroll.Limit, offset, scroll.WithPayload, scroll.WithVectors,
                consistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            points.AddRange(page.Result);
            offset = page.NextPageOffset;
        }
        while (offset is not null);
        return points;
    }

    // Whether every stored direction is the projection's row of the same index (a partial write of the same version).
    private static bool Match(List<Proto.RetrievedPoint> stored, PrefixProjection projection)
    {
        foreach (var point in stored)
        {
            if (!point.Payload.TryGetValue(QdrantProjectionCodec.RowField, out var row) || row.KindCase != Proto.Value.KindOneofCase.IntegerValue ||
                row.IntegerValue < 0 || row.IntegerValue >= projection.Rows)
            {
                return false;
            }

            // Servers with collection metadata (1.16+) answer dense vectors in `dense`.
            var output = point.Vectors?.VectorsOptionsCase == Proto.VectorsOutput.VectorsOptionsOneofCase.Vector ? point.Vectors.Vector : null;
            if (output?.Dense is not { } dense || !dense.Data.SequenceEqual(projection.Row((int)row.IntegerValue).ToArray()))
            {
                return false;
            }
        }

        return true;
    }
}
