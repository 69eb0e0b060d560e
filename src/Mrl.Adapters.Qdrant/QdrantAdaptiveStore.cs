using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// An <see cref="IAdaptiveStore{TKey}"/> over Qdrant's REST API. Each record is one point with two named vectors:
/// the prefix (<see cref="QdrantStoreOptions.PrefixVectorName"/>), indexed with HNSW under the layout's distance, and the
/// full vector (<see cref="QdrantStoreOptions.FullVectorName"/>), with no HNSW graph (<c>m = 0</c>) and kept on disk.
/// Pass 1 is a <c>POST /points/query</c> on the prefix that returns the candidates' full vectors; the core reranks them.
/// </summary>
/// <remarks>
/// <para>Keys: <see cref="long"/> (non-negative), <see cref="ulong"/>, <see cref="Guid"/> and <see cref="string"/>; see
/// <see cref="QdrantKeyMapping"/> for how they become point ids.</para>
/// <para>Writes use <c>wait=true</c> and are split so that no request exceeds <see cref="QdrantStoreOptions.MaxRequestBytes"/>.
/// Every record is validated before the first request, so an invalid record writes nothing; a server failure part-way
/// through a large upsert leaves the batches sent before it written.</para>
/// <para>With <see cref="DistanceMetric.Cosine"/>, Qdrant stores vectors normalized to unit length, so
/// <see cref="GetAsync"/> returns the full vector normalized. Scores are higher-is-better for every metric (Qdrant's
/// Euclidean distances are negated). A payload that is empty comes back as null.</para>
/// <para><see cref="Rerank.InDatabase"/> runs a <c>prefetch</c> on the prefix and rescores on the full vector in Qdrant;
/// <see cref="SearchOptions.FullDimensionBaseline"/> runs an exact scan (<c>params.exact</c>) of the full vectors, which
/// have no HNSW graph.</para>
/// </remarks>
/// <typeparam name="TKey">The record key type.</typeparam>
public sealed partial class QdrantAdaptiveStore<TKey> : IAdaptiveStore<TKey>, ICandidateSource<TKey> where TKey : notnull
{
    // Qdrant searches with ef = ef_construct when a query names no hnsw_ef; 100 is its default ef_construct.
    private const int QdrantDefaultEf = 100;

    private readonly QdrantTransport _transport;
    private readonly QdrantKeyCodec<TKey> _codec;
    private readonly ILogger _logger;
    private readonly string _collection;
    private readonly string _prefixVectorName;
    private readonly string _fullVectorName;
    private readonly int _maxRequestBytes;
    private readonly int _defaultEf;
    private readonly QdrantStoreOptions _creation;
    private readonly StoreTelemetry _telemetry;

    /// <summary>Creates a store that sends its requests through <paramref name="httpClient"/>, which it does not dispose.</summary>
    /// <param name="httpClient">The client to send with. Its <see cref="HttpClient.Timeout"/> should not be shorter than <see cref="QdrantStoreOptions.RequestTimeout"/>.</param>
    /// <param name="options">Where Qdrant is and how the collection is laid out; copied, so later changes have no effect.</param>
    /// <param name="logger">Where requests are logged (method, path, status, time; never the API key).</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="TKey"/> is not a supported key type.</exception>
    public QdrantAdaptiveStore(HttpClient httpClient, QdrantStoreOptions options, ILogger<QdrantAdaptiveStore<TKey>>? logger = null)
        : this(ClientSource(httpClient), options, logger)
    {
    }

    /// <summary>Creates a store that asks <paramref name="httpClient"/> for a client for each request (an IHttpClientFactory).</summary>
    internal QdrantAdaptiveStore(Func<HttpClient> httpClient, QdrantStoreOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _codec = QdrantKeyCodec.For<TKey>();
        Layout = options.Layout!;
        _collection = options.Collection;
        _prefixVectorName = options.PrefixVectorName;
        _fullVectorName = options.FullVectorName;
        _maxRequestBytes = options.MaxRequestBytes;
        _defaultEf = options.PrefixHnswEfConstruct ?? QdrantDefaultEf;
        _creation = Copy(options);
        _logger = logger ?? NullLogger.Instance;
        _transport = new QdrantTransport(httpClient, options.Endpoint!, options.ApiKey, options.RequestTimeout, options.MaxResponseBytes, _logger);
        _telemetry = new StoreTelemetry(SystemName, _collection, Layout, ActivityKind.Client);
    }

    /// <inheritdoc />
    public EmbeddingLayout Layout { get; }

    /// <summary>
    /// Checks the server version (GET /), then creates the collection with both named vectors and the configured payload
    /// indexes, or checks an existing collection's vectors and creates any payload index it lacks.
    /// </summary>
    /// <exception cref="NotSupportedException">The server is older than Qdrant 1.10, which has no Query API.</exception>
    /// <exception cref="SchemaMismatchException">The collection exists with other vectors than the layout needs.</exception>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        var version = await QdrantReads.ServerVersionAsync(_transport, cancellationToken).ConfigureAwait(false);
        if (version < QdrantServerVersion.Minimum)
        {
            throw new NotSupportedException(
                $"Qdrant {version} is too old: the store needs {QdrantServerVersion.Minimum} or later for /points/query with prefetch.");
        }

        var info = await QdrantReads.CollectionAsync(_transport, _collection, null, cancellationToken).ConfigureAwait(false);
        if (info is null)
        {
            var create = QdrantRequests.CreateCollection(_collection, QdrantCollectionSpec.From(_creation, version));
            try
            {
                await _transport.SendForResultAsync(create, cancellationToken).ConfigureAwait(false);
                LogCreatedCollection(_logger, _collection, Layout);
            }
            catch (QdrantException e) when (e.StatusCode is HttpStatusCode.Conflict ||
                                            (e.StatusCode is HttpStatusCode.BadRequest && e.ServerError?.Contains("already exists", StringComparison.OrdinalIgnoreCase) == true))
            {
                // Another process created it between our look and our create: check theirs instead.
                info = await QdrantReads.CollectionAsync(_transport, _collection, null, cancellationToken).ConfigureAwait(false);
            }
        }

        if (info is not null)
        {
            CheckCollection(info);
        }

        foreach (var index in _creation.PayloadIndexes)
        {
            if (info is null || !info.HasPayloadIndex(QdrantFilterTranslator.KeyPath(index.Field)))
            {
                var request = QdrantRequests.CreatePayloadIndex(_collection, index.Field, index.Type);
                var result = await _transport.SendForResultAsync(request, cancellationToken).ConfigureAwait(false);
                QdrantResponses.EnsureApplied(result, request);
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
        var prefixes = new float[records.Count * p];
        var points = new QdrantPoint[records.Count];
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

            var prefix = prefixes.AsMemory(i * p, p);
            Layout.WritePrefix(record.Vector.Span, prefix.Span);
            points[i] = new QdrantPoint(id, prefix, record.Vector, record.Payload, _codec.PayloadKey(record.Key));
        }

        var requests = QdrantRequests.UpsertPoints(_collection, _prefixVectorName, _fullVectorName, points, _maxRequestBytes,
            i => $"Record {records[i].Key} (position {i})");
        foreach (var request in requests)
        {
            var result = await _transport.SendForResultAsync(request, cancellationToken).ConfigureAwait(false);
            QdrantResponses.EnsureApplied(result, request);
        }
    }

    private async Task<int> DeleteCoreAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var ids = new List<QdrantPointId>(keys.Count);
        var seen = new HashSet<QdrantPointId>();
        foreach (var key in keys)
        {
            if (key is not null && TryGetPointId(key, out var id) && seen.Add(id))
            {
                ids.Add(id);
            }
        }

        var deleted = 0;
        foreach (var chunk in ids.Chunk(QdrantRequests.MaxIdsPerRequest))
        {
            var existing = QdrantResponses.Ids(
                await _transport.SendForResultAsync(QdrantRequests.Retrieve(_collection, chunk, null, withPayload: false), cancellationToken).ConfigureAwait(false));
            if (existing.Count == 0)
            {
                continue;
            }

            var request = QdrantRequests.Delete(_collection, existing);
            var result = await _transport.SendForResultAsync(request, cancellationToken).ConfigureAwait(false);
            QdrantResponses.EnsureApplied(result, request);
            deleted += existing.Count;
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

        var result = await _transport.SendForResultAsync(QdrantRequests.Retrieve(_collection, [id], _fullVectorName, withPayload: true), cancellationToken)
            .ConfigureAwait(false);
        var records = QdrantResponses.Records(result, _codec, _fullVectorName, Layout.FullDimensions);
        return records.Count == 0 ? null : records[0];
    }

    private async Task<long> CountCoreAsync(Filter? filter, CancellationToken cancellationToken)
    {
        var result = await _transport.SendForResultAsync(QdrantRequests.Count(_collection, filter), cancellationToken).ConfigureAwait(false);
        return QdrantResponses.Count(result);
    }

    private async Task<SearchResult<TKey>> SearchCoreAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.FullDimensionBaseline)
        {
            Layout.Validate(query.Span, "the query");
            var exact = QdrantRequests.QueryExact(_collection, _fullVectorName, query, options.K, options.Filter);
            return await SearchInDatabaseAsync(exact, options.K, "full", cancellationToken).ConfigureAwait(false);
        }

        if (options.Rerank == Rerank.InDatabase)
        {
            Layout.Validate(query.Span, "the query");
            var candidates = options.CandidateCount;
            var rerank = QdrantRequests.QueryWithRerank(_collection, _prefixVectorName, _fullVectorName, Layout.ToPrefix(query.Span), query,
                candidates, options.K, HnswEf(options.EfSearch, candidates), options.Filter);
            return await SearchInDatabaseAsync(rerank, candidates, "two-pass-db", cancellationToken).ConfigureAwait(false);
        }

        return await TwoPassRetriever.SearchAsync(Layout, this, query, options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The prefix query does not fit the layout, or the count is not between 1 and <see cref="SearchOptions.MaxCandidates"/>.</exception>
    public async ValueTask<CandidateBatch<TKey>> FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
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

        var fullVectorName = request.IncludeFullVectors ? _fullVectorName : null;
        var query = QdrantRequests.QueryPrefix(_collection, _prefixVectorName, fullVectorName, request.PrefixQuery, request.Count,
            HnswEf(request.EfSearch, request.Count), request.Filter);
        using var document = await _transport.SendAsync(query, cancellationToken).ConfigureAwait(false);
        var result = QdrantResponses.Result(document.RootElement, query);
        var candidates = QdrantResponses.Candidates(result, _codec, Layout.Metric, fullVectorName, Layout.FullDimensions, out var bytes);
        return new CandidateBatch<TKey>(candidates, bytes);
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

    private async Task<SearchResult<TKey>> SearchInDatabaseAsync(QdrantRequest request, int candidatesFetched, string strategy, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        using var document = await _transport.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var hits = QdrantResponses.Hits(QdrantResponses.Result(document.RootElement, request), _codec, Layout.Metric);
        return new SearchResult<TKey>(hits, new SearchDiagnostics
        {
            CandidatesFetched = strategy == "full" ? hits.Length : candidatesFetched,
            Pass1Time = Stopwatch.GetElapsedTime(start),
            Strategy = strategy,
        });
    }

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

    private static Func<HttpClient> ClientSource(HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        return () => httpClient;
    }

    private static QdrantStoreOptions Copy(QdrantStoreOptions options)
    {
        var copy = new QdrantStoreOptions
        {
            Endpoint = options.Endpoint,
            Layout = options.Layout,
            Collection = options.Collection,
            PrefixVectorName = options.PrefixVectorName,
            FullVectorName = options.FullVectorName,
            RequestTimeout = options.RequestTimeout,
            MaxRequestBytes = options.MaxRequestBytes,
            MaxResponseBytes = options.MaxResponseBytes,
            PrefixHnswM = options.PrefixHnswM,
            PrefixHnswEfConstruct = options.PrefixHnswEfConstruct,
            ShardNumber = options.ShardNumber,
            ReplicationFactor = options.ReplicationFactor,
            WriteConsistencyFactor = options.WriteConsistencyFactor,
        };
        foreach (var index in options.PayloadIndexes)
        {
            copy.PayloadIndexes.Add(index);
        }

        return copy;
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Created Qdrant collection {Collection} ({Layout})")]
    private static partial void LogCreatedCollection(ILogger logger, string collection, EmbeddingLayout layout);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Created payload index {Field} ({Type}) on Qdrant collection {Collection}")]
    private static partial void LogCreatedIndex(ILogger logger, string field, QdrantPayloadSchemaType type, string collection);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information,
        Message = "The full vector {Vector} of Qdrant collection {Collection} has an HNSW graph; pass 1 searches the prefix only, so m = 0 on the full vector would save its memory")]
    private static partial void LogFullVectorHasGraph(ILogger logger, string vector, string collection);
}
