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
using Mrl.Adapters.Filtering;
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
        init
        {
            if (value is not null && value.Dimensions != Layout.FullDimensions)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"The cache holds {value.Dimensions}-dimension vectors; the layout has {Layout.FullDimensions}."), nameof(FullVectorCache));
            }

            _cached = value is null ? null : new CachedCandidateSource<TKey>(this, value);
        }
    }

    /// <summary>
    /// Checks the server version (the health check), then creates the collection with both named vectors, the cluster
    /// settings and the configured payload indexes, or checks an existing collection's vectors and creates any payload
    /// index it lacks.
    /// </summary>
    /// <exception cref="NotSupportedException">The server is older than Qdrant 1.10, which has no Query API.</exception>
    /// <exception cref="SchemaMismatchException">The collection exists with other vectors than the layout needs.</exception>
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
            var create = QdrantCollections.Create(_collection, QdrantCollectionSpec.From(_creation, version));
            try
            {
                await _calls.RunAsync("CreateCollection", ct => _client.CreateCollectionAsync(create, ct), cancellationToken).ConfigureAwait(false);
                LogCreatedCollection(_logger, _collection, Layout);
            }
            catch (QdrantException e) when (e.StatusCode is StatusCode.AlreadyExists ||
                                            (e.StatusCode is StatusCode.InvalidArgument && e.ServerError?.Contains("already exists", StringComparison.OrdinalIgnoreCase) == true))
            {
                // Another process created it between our look and our create: check theirs instead.
                info = await QdrantCollections.ReadAsync(_client, _calls, _collection, null, cancellationToken).ConfigureAwait(false);
            }
        }

        if (info is not null)
        {
            CheckCollection(info);
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

    private async Task<IReadOnlyList<VectorRecord<TKey>>> QueryCoreAsync(Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var condition = QdrantFilterTranslator.TranslateOrNull(filter);
        return options.OrderBy.Count == 0 && _codec.IdOrderIsKeyOrder
            ? await ScanInIdOrderAsync(condition, top, options, cancellationToken).ConfigureAwait(false)
            : await ScanAndSortAsync(condition, top, options, cancellationToken).ConfigureAwait(false);
    }

    // Integer keys in key order are Qdrant's own scroll order: skip by scrolling ids only, then read the page.
    private async Task<IReadOnlyList<VectorRecord<TKey>>> ScanInIdOrderAsync(Proto.Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var noPayload = new Proto.WithPayloadSelector { Enable = false };
        var noVectors = new Proto.WithVectorsSelector { Enable = false };
        Proto.PointId? offset = null;
        for (var skipped = 0; skipped < options.Skip;)
        {
            var skip = await ScrollPageAsync(filter, (uint)Math.Min(options.Skip - skipped, MaxIdsPerCall), offset, noPayload, noVectors, cancellationToken)
                .ConfigureAwait(false);
            skipped += skip.Result.Count;
            offset = skip.NextPageOffset;
            if (offset is null)
            {
                return [];
            }
        }

        var vectors = options.IncludeVectors ? FullVectorSelector() : noVectors;
        var records = new List<VectorRecord<TKey>>(Math.Min(top, InitialPageCapacity));
        do
        {
            var page = await ScrollPageAsync(filter, (uint)Math.Min(top - records.Count, PageLimit(options.IncludeVectors)), offset,
                new Proto.WithPayloadSelector { Enable = true }, vectors, cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                var id = QdrantProtos.PointId(point.Id);
                records.Add(new VectorRecord<TKey>(_codec.FromPoint(id, point.Payload), options.IncludeVectors ? FullVector(point.Vectors, id) : ReadOnlyMemory<float>.Empty,
                    QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null && records.Count < top);

        return records;
    }

    // Qdrant's order_by would drop the points that lack the field, takes one numeric key backed by a range index, and pages
    // without an offset; so the matches (payloads only, at most MaxScanPoints) are ordered here as the in-memory store does.
    private async Task<IReadOnlyList<VectorRecord<TKey>>> ScanAndSortAsync(Proto.Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var matches = new List<(TKey Key, Proto.PointId Id, JsonElement? Payload)>();
        Proto.PointId? offset = null;
        do
        {
            var page = await ScrollPageAsync(filter, (uint)PageLimit(withVectors: false), offset, new Proto.WithPayloadSelector { Enable = true },
                new Proto.WithVectorsSelector { Enable = false }, cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                matches.Add((_codec.FromPoint(QdrantProtos.PointId(point.Id), point.Payload), point.Id, QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
            }

            if (matches.Count > _maxScanPoints)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"GetAsync on Qdrant collection '{_collection}' orders the matching points in process (an OrderBy, or {typeof(TKey).Name} keys) and reads at most " +
                    $"QdrantStoreOptions.MaxScanPoints ({_maxScanPoints}) of them; more match. Narrow the filter or raise MaxScanPoints."));
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null);

        var keys = typeof(TKey) == typeof(string) ? (IComparer<TKey>)(object)StringComparer.Ordinal : Comparer<TKey>.Default;
        var orderBy = options.OrderBy;
        matches.Sort((a, b) => PayloadOrder.Compare(a.Payload, b.Payload, orderBy) is var c and not 0 ? c : keys.Compare(a.Key, b.Key));
        var slice = matches.Skip(options.Skip).Take(top).ToList();
        if (!options.IncludeVectors || slice.Count == 0)
        {
            return slice.Select(m => new VectorRecord<TKey>(m.Key, ReadOnlyMemory<float>.Empty, m.Payload)).ToArray();
        }

        var full = new Dictionary<QdrantPointId, float[]>(slice.Count);
        foreach (var chunk in slice.Select(m => m.Id).Chunk(MaxIdsPerCall))
        {
            var points = await _calls.RunAsync("Retrieve", ct => _client.RetrieveAsync(_collection, chunk, new Proto.WithPayloadSelector { Enable = false },
                FullVectorSelector(), _readConsistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            foreach (var point in points)
            {
                var id = QdrantProtos.PointId(point.Id);
                full[id] = FullVector(point.Vectors, id);
            }
        }

        // A point deleted between the scan and the retrieve drops out, as it would from a later scan.
        return slice.Where(m => full.ContainsKey(QdrantProtos.PointId(m.Id)))
            .Select(m => new VectorRecord<TKey>(m.Key, full[QdrantProtos.PointId(m.Id)], m.Payload)).ToArray();
    }

    private float[] FullVector(Proto.VectorsOutput? vectors, QdrantPointId id) =>
        QdrantProtos.ReadVector(vectors, _fullVectorName, Layout.FullDimensions)
        ?? throw new QdrantException($"Point {id} in '{_collection}' has no '{_fullVectorName}' vector.");

    // Pages of full vectors stay near 2 MiB, well inside gRPC's default 4 MB answer.
    private int PageLimit(bool withVectors) =>
        withVectors ? Math.Clamp(2 * 1024 * 1024 / (Layout.FullDimensions * sizeof(float)), 1, ScanPageSize) : ScanPageSize;

    private async Task<SearchResult<TKey>> SearchCoreAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Strategy == SearchStrategy.FullDimension)
        {
            Layout.Validate(query.Span, "the query");
            var filter = QdrantFilterTranslator.TranslateOrNull(options.Filter);
            return await SearchInDatabaseAsync(ct => _client.QueryAsync(_collection, QdrantProtos.Nearest(query.Span), usingVector: _fullVectorName,
                    filter: filter, searchParams: new Proto.SearchParams { Exact = true }, limit: (ulong)options.K,
                    payloadSelector: new Proto.WithPayloadSelector { Enable = true }, vectorsSelector: new Proto.WithVectorsSelector { Enable = false },
                    readConsistency: _readConsistency, cancellationToken: ct),
                options.K, SearchStrategy.FullDimension, cancellationToken).ConfigureAwait(false);
        }

        if (options.Strategy == SearchStrategy.TwoPassInDatabase)
        {
            Layout.Validate(query.Span, "the query");
            var candidates = options.CandidateCount;
            var filter = QdrantFilterTranslator.TranslateOrNull(options.Filter);
            var prefetch = new Proto.PrefetchQuery
            {
                Query = QdrantProtos.Nearest(Layout.ToPrefix(query.Span)),
                Using = _prefixVectorName,
                Limit = (ulong)candidates,
                Params = new Proto.SearchParams { HnswEf = (ulong)HnswEf(options.EfSearch, candidates) },
            };
            if (filter is not null)
            {
                prefetch.Filter = filter;
            }

            return await SearchInDatabaseAsync(ct => _client.QueryAsync(_collection, QdrantProtos.Nearest(query.Span), [prefetch], _fullVectorName,
                    filter, limit: (ulong)options.K, payloadSelector: new Proto.WithPayloadSelector { Enable = true },
                    vectorsSelector: new Proto.WithVectorsSelector { Enable = false }, readConsistency: _readConsistency, cancellationToken: ct),
                candidates, SearchStrategy.TwoPassInDatabase, cancellationToken).ConfigureAwait(false);
        }

        return await TwoPassRetriever.SearchAsync(Layout, this, query, options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The prefix query does not fit the layout, or the count is not between 1 and <see cref="SearchOptions.MaxCandidates"/>.</exception>
    async ValueTask<CandidateBatch<TKey>> ICandidateSource<TKey>.FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count is < 1 or > SearchOptions.MaxCandidates)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Count,
                string.Create(CultureInfo.InvariantCulture, $"CandidateRequest.Count must be between 1 and {SearchOptions.MaxCandidates}, got {request.Count}."));
        }

        if (VectorMath.FindProblem(request.PrefixQuery.Span, Layout.PrefixDimensions, Layout.PrefixDimensions, rejectZero: false) is { } problem)
        {
            throw new ArgumentException($"Invalid prefix query: {problem}", nameof(request));
        }

        if (_cached is not null && request.IncludeFullVectors)
        {
            return await _cached.FetchCandidatesAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var vectors = request.IncludeFullVectors ? FullVectorSelector() : new Proto.WithVectorsSelector { Enable = false };
        var points = await QueryPrefixAsync(request, vectors, cancellationToken).ConfigureAwait(false);
        var candidates = new List<Candidate<TKey>>(points.Count);
        long bytes = 0;
        foreach (var point in points)
        {
            var id = QdrantProtos.PointId(point.Id);
            var full = ReadOnlyMemory<float>.Empty;
            if (request.IncludeFullVectors)
            {
                full = QdrantProtos.ReadVector(point.Vectors, _fullVectorName, Layout.FullDimensions)
                       ?? throw new QdrantException($"Point {id} in '{_collection}' came without its '{_fullVectorName}' vector; it cannot be reranked.");
                bytes += (long)full.Length * sizeof(float);
            }

            candidates.Add(new Candidate<TKey>(_codec.FromPoint(id, point.Payload), QdrantDistance.ToScore(Layout.Metric, point.Score), full,
                QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
        }

        return new CandidateBatch<TKey>(candidates, bytes);
    }

    /// <summary>Pass 1: the query on the prefix vector, with the payload (and so the write stamp) and the given vectors.</summary>
    private Task<IReadOnlyList<Proto.ScoredPoint>> QueryPrefixAsync(CandidateRequest request, Proto.WithVectorsSelector vectors, CancellationToken cancellationToken)
    {
        var filter = QdrantFilterTranslator.TranslateOrNull(request.Filter);
        return _calls.RunAsync("Query", ct => _client.QueryAsync(_collection, QdrantProtos.Nearest(request.PrefixQuery.Span),
                usingVector: _prefixVectorName, filter: filter, searchParams: new Proto.SearchParams { HnswEf = (ulong)HnswEf(request.EfSearch, request.Count) },
                limit: (ulong)request.Count, payloadSelector: new Proto.WithPayloadSelector { Enable = true }, vectorsSelector: vectors,
                readConsistency: _readConsistency, cancellationToken: ct),
            cancellationToken);
    }

    int IVersionedCandidateSource<TKey>.FullDimensions => Layout.FullDimensions;

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadVersionedCandidatesAsync(
        CandidateRequest request, List<VersionedCandidate<TKey>> rows, CandidateVectorBuffer? fullVectors, CancellationToken cancellationToken)
    {
        var vectors = fullVectors is null ? new Proto.WithVectorsSelector { Enable = false } : FullVectorSelector();
        var points = await QueryPrefixAsync(request, vectors, cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        foreach (var point in points)
        {
            var id = QdrantProtos.PointId(point.Id);
            if (fullVectors is not null)
            {
                if (!QdrantProtos.TryReadVector(point.Vectors, _fullVectorName, fullVectors.Slot(rows.Count).Span))
                {
                    throw new QdrantException($"Point {id} in '{_collection}' came without its '{_fullVectorName}' vector; it cannot be reranked.");
                }

                bytes += (long)Layout.FullDimensions * sizeof(float);
            }

            rows.Add(new VersionedCandidate<TKey>(_codec.FromPoint(id, point.Payload), QdrantDistance.ToScore(Layout.Metric, point.Score),
                QdrantProtos.Version(point.Payload), QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
        }

        return bytes;
    }

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadFullVectorsAsync(
        IReadOnlyDictionary<TKey, int> slots, CandidateVectorBuffer into, Action<int, long> found, CancellationToken cancellationToken)
    {
        var bySlot = new Dictionary<QdrantPointId, int>(slots.Count);
        foreach (var (key, slot) in slots)
        {
            bySlot[_codec.ToPointId(key)] = slot;
        }

        long bytes = 0;
        foreach (var chunk in bySlot.Keys.Chunk(MaxIdsPerCall))
        {
            var ids = chunk.Select(QdrantProtos.PointId).ToArray();
            var points = await _calls.RunAsync("Retrieve", ct => _client.RetrieveAsync(_collection, ids, VersionSelector(), FullVectorSelector(),
                _readConsistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            foreach (var point in points)
            {
                var id = QdrantProtos.PointId(point.Id);
                if (bySlot.TryGetValue(id, out var slot) && QdrantProtos.TryReadVector(point.Vectors, _fullVectorName, into.Slot(slot).Span))
                {
                    found(slot, QdrantProtos.Version(point.Payload));
                    bytes += (long)Layout.FullDimensions * sizeof(float);
                }
            }
        }

        return bytes;
    }

    /// <summary>
    /// Reads every point's full vector into <see cref="FullVectorCache"/>, a page of <paramref name="pageSize"/> points per
    /// scroll call, reporting the points read so far. A cache smaller than the collection keeps what its budget allows;
    /// points without the store's write stamp are not cached.
    /// </summary>
    /// <returns>The points read.</returns>
    /// <exception cref="InvalidOperationException">The store has no cache.</exception>
    public async Task<long> WarmAsync(IProgress<long>? progress = null, int pageSize = 1_000, CancellationToken cancellationToken = default)
    {
        var cached = _cached ?? throw new InvalidOperationException("This store has no FullVectorCache to warm.");
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var cache = cached.Cache;
        var buffer = new float[Layout.FullDimensions];
        var payload = VersionSelector();
        if (_codec.StoresKeyInPayload)
        {
            payload.Include.Fields.Add(QdrantKeyMapping.KeyPayloadField);
        }

        Proto.PointId? offset = null;
        long points = 0;
        do
        {
            var page = await ScrollPageAsync(null, (uint)pageSize, offset, payload, FullVectorSelector(), cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                var version = QdrantProtos.Version(point.Payload);
                if (version != RowVersion.Unknown && QdrantProtos.TryReadVector(point.Vectors, _fullVectorName, buffer))
                {
                    cache.Put(_codec.FromPoint(QdrantProtos.PointId(point.Id), point.Payload), version, buffer);
                }
            }

            points += page.Result.Count;
            progress?.Report(points);
            offset = page.NextPageOffset;
        }
        while (offset is not null);

        cached.MarkWarm();
        return points;
    }

    /// <summary>Throws a <see cref="SchemaMismatchException"/> listing every way <paramref name="info"/> differs from what the store needs.</summary>
    internal void CheckCollection(QdrantCollectionInfo info)
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

    private async Task<SearchResult<TKey>> SearchInDatabaseAsync(
        Func<CancellationToken, Task<IReadOnlyList<Proto.ScoredPoint>>> query, int candidatesFetched, SearchStrategy strategy, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var points = await _calls.RunAsync("Query", query, cancellationToken).ConfigureAwait(false);
        var hits = new SearchHit<TKey>[points.Count];
        for (var i = 0; i < hits.Length; i++)
        {
            var point = points[i];
            hits[i] = new SearchHit<TKey>(_codec.FromPoint(QdrantProtos.PointId(point.Id), point.Payload), QdrantDistance.ToScore(Layout.Metric, point.Score),
                QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload));
        }

        return new SearchResult<TKey>(hits, new SearchDiagnostics
        {
            CandidatesFetched = strategy == SearchStrategy.FullDimension ? hits.Length : candidatesFetched,
            Pass1Time = Stopwatch.GetElapsedTime(start),
            Strategy = strategy,
        });
    }

    /// <summary>One page of a scroll: points in id order from <paramref name="offset"/> (the start when null).</summary>
    private Task<Proto.ScrollResponse> ScrollPageAsync(
        Proto.Filter? filter, uint limit, Proto.PointId? offset, Proto.WithPayloadSelector payload, Proto.WithVectorsSelector vectors, CancellationToken cancellationToken) =>
        _calls.RunAsync("Scroll", ct => _client.ScrollAsync(_collection, filter, limit, offset, payload, vectors, _readConsistency, cancellationToken: ct),
            cancellationToken);

    // Only the write stamp: the cache's version of each point fetched after pass 1.
    private static Proto.WithPayloadSelector VersionSelector() =>
        new() { Include = new Proto.PayloadIncludeSelector { Fields = { QdrantKeyMapping.VersionPayloadField } } };

    private Proto.WithVectorsSelector FullVectorSelector() =>
        new() { Include = new Proto.VectorsSelector { Names = { _fullVectorName } } };

    private int HnswEf(int? requested, int count) => Math.Max(requested ?? _defaultEf, count);

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
