using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Diagnostics;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// An <see cref="IAdaptiveStore{TKey}"/> over Qdrant, through the official <see cref="QdrantClient"/> (gRPC). Each record is
/// one point with two named vectors: the prefix (<see cref="QdrantStoreOptions.PrefixVectorName"/>), indexed with HNSW
/// under the layout's distance, and the full vector (<see cref="QdrantStoreOptions.FullVectorName"/>), with no HNSW graph
/// (<c>m = 0</c>) and kept cold on disk. Pass 1 is a Query API call on the prefix that returns the candidates' full
/// vectors; the core reranks them.
/// </summary>
/// <remarks>
/// <para>Keys: <see cref="long"/> (non-negative), <see cref="ulong"/>, <see cref="Guid"/> and <see cref="string"/>; see
/// <see cref="QdrantKeyMapping"/> for how they become point ids.</para>
/// <para>Writes wait until applied and are split so that no message exceeds <see cref="QdrantStoreOptions.MaxRequestBytes"/>.
/// Every record is validated before the first call, so an invalid record writes nothing; a server failure part-way
/// through a large upsert leaves the batches sent before it written.</para>
/// <para>With <see cref="DistanceMetric.Cosine"/>, Qdrant stores vectors normalized to unit length, so
/// <see cref="GetAsync(TKey, CancellationToken)"/> returns the full vector normalized. Scores are higher-is-better for every metric (Qdrant's
/// Euclidean and Manhattan distances are negated). A payload that is empty comes back as null.</para>
/// <para><see cref="SearchStrategy.TwoPassInDatabase"/> runs a <c>prefetch</c> on the prefix and rescores on the full vector in Qdrant;
/// <see cref="SearchStrategy.FullDimension"/> runs an exact scan of the full vectors, which have no HNSW graph.</para>
/// <para>The store never disposes the client: whoever created it (the DI container, the caller) does.</para>
/// </remarks>
/// <typeparam name="TKey">The record key type.</typeparam>
public sealed partial class QdrantAdaptiveStore<TKey> : IAdaptiveStore<TKey>, ICandidateSource<TKey>, IVersionedCandidateSource<TKey> where TKey : notnull
{
    /// <summary>The most point ids one retrieve or delete call carries.</summary>
    internal const int MaxIdsPerCall = 4096;

    /// <summary>Points per scroll call of a filtered scan.</summary>
    internal const int ScanPageSize = 1_000;

    private const int InitialPageCapacity = 256;

    // Qdrant searches with ef = ef_construct when a query names no hnsw_ef; 100 is its default ef_construct.
    private const int QdrantDefaultEf = 100;

    private readonly QdrantClient _client;
    private readonly QdrantCalls _calls;
    private readonly QdrantKeyCodec<TKey> _codec;
    private readonly ILogger _logger;
    private readonly string _collection;
    private readonly string _prefixVectorName;
    private readonly string _fullVectorName;
    private readonly int _maxRequestBytes;
    private readonly int _maxScanPoints;
    private readonly int _defaultEf;
    private readonly Proto.ReadConsistency? _readConsistency;
    private readonly QdrantStoreOptions _creation;
    private readonly StoreTelemetry _telemetry;
    private readonly CachedCandidateSource<TKey>? _cached;

    /// <summary>Creates a store that works through <paramref name="client"/>, which it does not dispose.</summary>
    /// <param name="client">The Qdrant client (gRPC): the application's own, with its endpoint, API key, TLS and deadline.</param>
    /// <param name="options">How the collection is laid out and searched; copied, so later changes have no effect.
    /// <see cref="QdrantStoreOptions.Endpoint"/> and <see cref="QdrantStoreOptions.ApiKey"/> are not used: the client has its own.</param>
    /// <param name="logger">Where calls are logged (operation, collection, time; never the API key).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="TKey"/> is not a supported key type.</exception>
    public QdrantAdaptiveStore(QdrantClient client, QdrantStoreOptions options, ILogger<QdrantAdaptiveStore<TKey>>? logger = null)
        : this(client, options, logger, apiKey: null)
    {
    }

    /// <summary>Creates a store; <paramref name="apiKey"/> is the key this library configured the client with, kept out of every message.</summary>
    internal QdrantAdaptiveStore(QdrantClient client, QdrantStoreOptions options, ILogger? logger, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _codec = QdrantKeyCodec.For<TKey>();
        Layout = options.Layout!;
        _collection = options.Collection;
        _prefixVectorName = options.PrefixVectorName;
        _fullVectorName = options.FullVectorName;
        _maxRequestBytes = options.MaxRequestBytes;
        _maxScanPoints = options.MaxScanPoints;
        _defaultEf = options.PrefixHnswEfConstruct ?? QdrantDefaultEf;
        _readConsistency = options.ReadConsistency?.Clone();
        _creation = options.Clone();
        _logger = logger ?? NullLogger.Instance;
        _calls = new QdrantCalls(_collection, options.RequestTimeout, options.RetryAttempts, apiKey ?? options.ApiKey, _logger);
        _telemetry = new StoreTelemetry(SystemName, _collection, Layout, ActivityKind.Client);
    }

    /// <inheritdoc />
    public EmbeddingLayout Layout { get; }

    /// <summary>
    /// Full vectors kept in process, keyed by record key and write stamp (<see cref="QdrantKeyMapping.VersionPayloadField"/>).
    /// With a cache, pass 1 returns ids, payloads and stamps only; cached vectors at the current stamp are reranked without a
    /// fetch, and misses and stale entries are fetched in one retrieve call. Null (the default) fetches every candidate's
    /// full vector in pass 1.
    /// </summary>
    /// <exception cref="ArgumentException">The cache holds vectors of another length than the layout's full dimensions.</exception>
    public IFullVectorCache<TKey>? FullVectorCache
    {
        get => _cached?.Cache;
        init => _cached = value is null ? null : new CachedCandidateSource<TKey>(this, value);
    }

    /// <summary>
    /// Checks the server version (the health check), then creates the collection with both named vectors, the cluster
    /// settings and the configured payload indexes, or checks an existing collection's vectors and creates any payload
    /// index it lacks. With a projected layout, a new collection gets the projection stored beside it (Qdrant 1.16+:
    /// its directions in a side collection, the version in the collection's metadata); an existing one must record
    /// that same projection.
    /// </summary>
    /// <exception cref="NotSupportedException">The server is older than Qdrant 1.10, which has no Query API.</exception>
    /// <exception cref="SchemaMismatchException">The collection exists with other vectors than the layout needs, or its
    /// prefix's keys are computed another way than the layout's (truncated, or with another projection).</exception>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        var version = await QdrantCollections.ServerVersionAsync(_client, _calls, cancellationToken).ConfigureAwait(false);
        if (version < QdrantServerVersion.Minimum)
        {
            throw new NotSupportedException(
                $"Qdrant {version} is too old: the store needs {QdrantServerVersion.Minimum} or later for the Query API with prefetch.");
        }

        var info = await QdrantCollections.ReadAsync(_client, _calls, _collection, null, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            // The directions first, so that no reader ever finds a marker whose directions are not all there.
            QdrantProjectionInfo? projection = null;
            if (Layout.Projection is { } fitted && version >= QdrantServerVersion.CollectionMetadata)
            {
                projection = QdrantProjectionCodec.Describe(fitted, QdrantProjectionCodec.CollectionFor(_collection));
                await QdrantProjections.StoreAsync(_client, _calls, fitted, projection.Collection, _creation, cancellationToken).ConfigureAwait(false);
            }

            var create = QdrantCollections.Create(_collection, QdrantCollectionSpec.From(_creation, version), projection);
            try
            {
                await _calls.RunAsync("CreateCollection", ct => _client.CreateCollectionAsync(create, ct), cancellationToken).ConfigureAwait(false);
                LogCreatedCollection(_logger, _collection, Layout);
            }
            catch (QdrantException e) when (QdrantCollections.IsAlreadyExists(e))
            {
                // Another process created it between our look and our create: check theirs instead.
                info = await QdrantCollections.ReadAsync(_client, _calls, _collection, null, cancellationToken).ConfigureAwait(false);
            }
        }

        if (info is not null)
        {
            CheckCollection(info, version);
        }

        foreach (var index in _creation.PayloadIndexes)
        {
            var keyPath = QdrantFilterTranslator.KeyPath(index.Field);
            if (info is null || !info.HasPayloadIndex(keyPath))
            {
                await QdrantCollections.CreatePayloadIndexAsync(_client, _calls, _collection, keyPath, QdrantCollections.SchemaType(index.Type), cancellationToken)
                    .ConfigureAwait(false);
                LogCreatedIndex(_logger, index.Field, index.Type, _collection);
            }
        }
    }

    private async Task UpsertCoreAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken)
    {
        VectorRecordValidator.Validate(Layout, records);
        if (records.Count == 0)
        {
            return;
        }

        var p = Layout.PrefixDimensions;
        var prefix = new float[p];
        var points = new Proto.PointStruct[records.Count];

        // A random stamp per written point, not a counter: a counter would need a read before every write, and Qdrant's
        // own point version is not stable enough to key a cache by (docs/qdrant.md).
        var stamps = new long[records.Count];
        RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(stamps.AsSpan()));
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            var id = _codec.ToPointId(record.Key);
            if (_codec.StoresKeyInPayload && record.Payload is { } payload && payload.TryGetProperty(QdrantKeyMapping.KeyPayloadField, out _))
            {
                throw new ArgumentException(
                    $"Record {record.Key} (position {i}) has a payload field '{QdrantKeyMapping.KeyPayloadField}', which the Qdrant store reserves for string keys.",
                    nameof(records));
            }

            if (record.Payload is { ValueKind: JsonValueKind.Object } stamped && stamped.TryGetProperty(QdrantKeyMapping.VersionPayloadField, out _))
            {
                throw new ArgumentException(
                    $"Record {record.Key} (position {i}) has a payload field '{QdrantKeyMapping.VersionPayloadField}', which the Qdrant store reserves for its write stamp.",
                    nameof(records));
            }

            Layout.WritePrefix(record.Vector.Span, prefix);
            var point = Point(id, prefix, record.Vector.Span, _prefixVectorName, _fullVectorName);
            if (record.Payload is { } json)
            {
                QdrantProtos.AddPayload(point.Payload, json);
            }

            if (_codec.PayloadKey(record.Key) is { } key)
            {
                point.Payload[QdrantKeyMapping.KeyPayloadField] = new Proto.Value { StringValue = key };
            }

            point.Payload[QdrantKeyMapping.VersionPayloadField] = new Proto.Value { IntegerValue = stamps[i] & long.MaxValue };
            points[i] = point;
        }

        var envelope = new Proto.UpsertPoints { CollectionName = _collection, Wait = true };
        foreach (var batch in Batches(points, _maxRequestBytes, envelope, i => $"Record {records[i].Key} (position {i})"))
        {
            await _calls.RunAsync("Upsert", async ct =>
            {
                var result = await _client.UpsertAsync(_collection, batch, wait: true, cancellationToken: ct).ConfigureAwait(false);
                QdrantCollections.EnsureApplied(result, "Upsert", _collection);
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A point with the prefix and the full vector under their names; either may be empty (a migrated point without it).</summary>
    internal static Proto.PointStruct Point(QdrantPointId id, ReadOnlySpan<float> prefix, ReadOnlySpan<float> full, string prefixVectorName, string fullVectorName)
    {
        var named = new Proto.NamedVectors();
        if (!prefix.IsEmpty)
        {
            named.Vectors[prefixVectorName] = QdrantProtos.Vector(prefix);
        }

        if (!full.IsEmpty)
        {
            named.Vectors[fullVectorName] = QdrantProtos.Vector(full);
        }

        return new Proto.PointStruct { Id = QdrantProtos.PointId(id), Vectors = new Proto.Vectors { Vectors_ = named } };
    }

    /// <summary>
    /// Splits points into batches such that <paramref name="envelope"/> (the message without its points) with one batch
    /// in its repeated field 4 serializes to at most <paramref name="maxBytes"/>, keeping their order.
    /// </summary>
    /// <exception cref="ArgumentException">One point alone does not fit.</exception>
    internal static List<List<T>> Batches<T>(IReadOnlyList<T> items, int maxBytes, Google.Protobuf.IMessage envelope, Func<int, string> describe)
        where T : Google.Protobuf.IMessage
    {
        var budget = maxBytes - envelope.CalculateSize();
        var batches = new List<List<T>>();
        var current = new List<T>();
        long size = 0;
        for (var i = 0; i < items.Count; i++)
        {
            var itemSize = items[i].CalculateSize();
            var framed = itemSize + Google.Protobuf.CodedOutputStream.ComputeLengthSize(itemSize) + 1;
            if (framed > budget)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{describe(i)} takes {framed} bytes on the wire, more than QdrantStoreOptions.MaxRequestBytes ({maxBytes}) allows for one message with it."));
            }

            if (size + framed > budget && current.Count > 0)
            {
                batches.Add(current);
                current = [];
                size = 0;
            }

            current.Add(items[i]);
            size += framed;
        }

        if (current.Count > 0)
        {
            batches.Add(current);
        }

        return batches;
    }

    private async Task<int> DeleteCoreAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = new List<Proto.PointId>(keys.Count);
        var seen = new HashSet<QdrantPointId>();
        foreach (var key in keys)
        {
            if (key is not null && TryGetPointId(key, out var id) && seen.Add(id))
            {
                ids.Add(QdrantProtos.PointId(id));
            }
        }

        var deleted = 0;
        foreach (var chunk in ids.Chunk(MaxIdsPerCall))
        {
            var found = await _calls.RunAsync("Retrieve", ct => _client.RetrieveAsync(_collection, chunk,
                new Proto.WithPayloadSelector { Enable = false }, new Proto.WithVectorsSelector { Enable = false }, _readConsistency, cancellationToken: ct),
                cancellationToken).ConfigureAwait(false);
            if (found.Count == 0)
            {
                continue;
            }

            var existing = found.Select(point => point.Id).ToArray();
            await _calls.RunAsync("Delete", async ct =>
            {
                var result = await _client.DeleteAsync(_collection, existing, wait: true, cancellationToken: ct).ConfigureAwait(false);
                QdrantCollections.EnsureApplied(result, "Delete", _collection);
            }, cancellationToken).ConfigureAwait(false);
            deleted += existing.Length;
        }

        return deleted;
    }

    private async Task<VectorRecord<TKey>?> GetCoreAsync(TKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!TryGetPointId(key, out var id))
        {
            return null;
        }

        var found = await _calls.RunAsync("Retrieve", ct => _client.RetrieveAsync(_collection, [QdrantProtos.PointId(id)],
            new Proto.WithPayloadSelector { Enable = true }, FullVectorSelector(), _readConsistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (found.Count == 0)
        {
            return null;
        }

        var point = found[0];
        var full = QdrantProtos.ReadVector(point.Vectors, _fullVectorName, Layout.FullDimensions)
                   ?? throw new QdrantException($"Point {id} in '{_collection}' has no '{_fullVectorName}' vector.");
        return new VectorRecord<TKey>(_codec.FromPoint(id, point.Payload), full, QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload));
    }

    private async Task<long> CountCoreAsync(Filter? filter, CancellationToken cancellationToken)
    {
        var condition = QdrantFilterTranslator.TranslateOrNull(filter);
        var count = await _calls.RunAsync("Count", ct => _client.CountAsync(_collection, condition, exact: true, _readConsistency, cancellationToken: ct),
            cancellationToken).ConfigureAwait(false);
        return (long)count;
    }

    int IVersionedCandidateSource<TKey>.FullDimensions => Layout.FullDimensions;

    /// <summary>Throws a <see cref="SchemaMismatchException"/> listing every way <paramref name="info"/> differs from what the store needs.</summary>
    /// <param name="info">The collection.</param>
    /// <param name="serverVersion">The server's version: before 1.16 a collection has no metadata, so it cannot record a projection.</param>
    internal void CheckCollection(QdrantCollectionInfo info, Version serverVersion)
    {
        var distance = QdrantDistance.For(Layout.Metric);
        var problems = new List<string>();
        if (info.UnnamedVector is { } unnamed)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"It has a single unnamed vector ({unnamed.Size} dimensions, {unnamed.Distance}); the store needs the named vectors '{_prefixVectorName}' and '{_fullVectorName}'."));
        }
        else
        {
            Check(_prefixVectorName, Layout.PrefixDimensions, "prefix");
            Check(_fullVectorName, Layout.FullDimensions, "full");
        }

        if (problems.Count > 0)
        {
            throw new SchemaMismatchException(
                $"Qdrant collection '{info.Name}' does not match the store's layout ({Layout}): {string.Join(" ", problems)} " +
                "Point the store at another collection, set QdrantStoreOptions.PrefixVectorName/FullVectorName to the collection's names, " +
                "change the layout, or add the prefix vector with QdrantMigrator.");
        }

        CheckProjection(info, serverVersion);
        if (info.NamedVectors[_fullVectorName].HnswM is not 0)
        {
            LogFullVectorHasGraph(_logger, _fullVectorName, info.Name);
        }

        void Check(string name, int dimensions, string role)
        {
            if (!info.NamedVectors.TryGetValue(name, out var vector))
            {
                var names = info.NamedVectors.Count == 0 ? "none" : string.Join(", ", info.NamedVectors.Keys.Select(n => $"'{n}'"));
                problems.Add($"The {role} vector '{name}' is missing (named vectors: {names}).");
                return;
            }

            if (vector.Size != dimensions)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"The {role} vector '{name}' has {vector.Size} dimensions; the layout needs {dimensions}."));
            }

            if (!string.Equals(vector.Distance, distance, StringComparison.Ordinal))
            {
                problems.Add($"The {role} vector '{name}' uses distance {vector.Distance}; the layout's metric {Layout.Metric} needs {distance}.");
            }
        }
    }

    /// <summary>
    /// The keys of a collection migrated with a projection are <c>P·x</c>: a query key made any other way (a truncated prefix,
    /// another fit's matrix) would search them with the wrong vector and find the wrong candidates without any error. The
    /// store takes the layout as given, so it refuses one that does not match what the collection records;
    /// <see cref="Migration.QdrantMigrator.ReadLayoutAsync"/> reads the right one.
    /// </summary>
    private void CheckProjection(QdrantCollectionInfo info, Version serverVersion)
    {
        info.Projections.TryGetValue(_prefixVectorName, out var stored);
        var given = Layout.Projection;
        if (stored is null && (given is null || serverVersion < QdrantServerVersion.CollectionMetadata))
        {
            // Before 1.16 a collection cannot record a projection: the application keeps it.
            return;
        }

        if (stored is not null && given is not null && stored.Describes(given))
        {
            return;
        }

        throw new SchemaMismatchException((stored, given) switch
        {
            (not null, null) => string.Create(CultureInfo.InvariantCulture,
                $"The prefix vector '{_prefixVectorName}' of Qdrant collection '{info.Name}' holds projected keys (projection version {stored.Version}, stored in '{stored.Collection}'), " +
                $"but the layout truncates. Open the store with the layout QdrantMigrator.ReadLayoutAsync reads from the collection, which carries the projection."),
            (null, not null) => string.Create(CultureInfo.InvariantCulture,
                $"The layout projects with version {given.Version}, but Qdrant collection '{info.Name}' records no projection for its prefix vector '{_prefixVectorName}': " +
                $"its keys are truncated prefixes, or were computed with a projection kept elsewhere. Use a truncating layout, or migrate the collection with this " +
                $"projection (QdrantMigrator, or `mrl migrate qdrant --projection`), which stores it and computes every key again."),
            _ when stored!.Version != given!.Version => string.Create(CultureInfo.InvariantCulture,
                $"The layout projects with version {given.Version}, but the keys of '{_prefixVectorName}' in Qdrant collection '{info.Name}' are computed with projection " +
                $"version {stored.Version}. Open the store with the layout QdrantMigrator.ReadLayoutAsync reads from the collection."),
            _ => string.Create(CultureInfo.InvariantCulture,
                $"The layout's projection version {given.Version} ({given.Rows} × {given.Columns}) is not the one Qdrant collection '{info.Name}' records under that version " +
                $"({stored.Rows} × {stored.Columns}, another fit or other values). Open the store with the layout QdrantMigrator.ReadLayoutAsync reads from the collection."),
        });
    }

    // A key that cannot be a point id (a negative long) cannot be stored, so reads and deletes treat it as absent.
    private bool TryGetPointId(TKey key, out QdrantPointId id)
    {
        try
        {
            id = _codec.ToPointId(key);
            return true;
        }
        catch (ArgumentException)
        {
            id = default;
            return false;
        }
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Created Qdrant collection {Collection} ({Layout})")]
    private static partial void LogCreatedCollection(ILogger logger, string collection, EmbeddingLayout layout);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Created payload index {Field} ({Type}) on Qdrant collection {Collection}")]
    private static partial void LogCreatedIndex(ILogger logger, string field, QdrantPayloadSchemaType type, string collection);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information,
        Message = "The full vector {Vector} of Qdrant collection {Collection} has an HNSW graph; pass 1 searches the prefix only, so m = 0 on the full vector would save its memory")]
    private static partial void LogFullVectorHasGraph(ILogger logger, string vector, string collection);
}
