using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Diagnostics;
using Npgsql;
using Pgvector;
using static Mrl.Adapters.Pgvector.PgvectorVectorCodec;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// An adaptive store on PostgreSQL with pgvector: the full vector in a <c>vector(D)</c> or <c>halfvec(D)</c> column, the
/// prefix in an HNSW-indexed column or expression. Pass 1 is one SQL query; pass 2 runs in process (the core's), or in SQL.
/// </summary>
/// <typeparam name="TKey"><see cref="long"/> (bigint), <see cref="Guid"/> (uuid) or <see cref="string"/> (text).</typeparam>
public sealed partial class PgvectorAdaptiveStore<TKey> : IAdaptiveStore<TKey>, ICandidateSource<TKey>, IVersionedCandidateSource<TKey>, IAsyncDisposable, IDisposable
    where TKey : notnull
{
    // Lists of rows grow from here: the candidate count is an upper bound, and a huge k on a small table returns few rows.
    private const int InitialRowCapacity = 256;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly PgvectorStoreOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _schemaLock = new(1, 1);
    private readonly CachedCandidateSource<TKey>? _cached;

    // How often recent candidates were in the cache (exponential moving average). Below one half, pass 1 fetches the
    // full vectors itself and fills the cache: one round trip, as without a cache, instead of pass 1 plus a fetch of misses.
    private readonly PgvectorRetry _retry;
    private readonly StoreTelemetry _telemetry;
    private readonly PgvectorSchemaInspector<TKey> _inspector;
    private readonly PgvectorWriter<TKey> _writer;
    private PgvectorTable? _table;

    /// <summary>Creates a store over the caller's data source, which must have pgvector's types mapped (<c>dataSourceBuilder.UseVector()</c>).</summary>
    public PgvectorAdaptiveStore(NpgsqlDataSource dataSource, EmbeddingLayout layout, PgvectorStoreOptions options, ILogger<PgvectorAdaptiveStore<TKey>>? logger = null)
        : this(dataSource, ownsDataSource: false, layout, options, logger)
    {
    }

    /// <summary>Creates a store that opens its own data source from <see cref="PgvectorStoreOptions.ConnectionString"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid or have no connection string.</exception>
    public PgvectorAdaptiveStore(EmbeddingLayout layout, PgvectorStoreOptions options, ILogger<PgvectorAdaptiveStore<TKey>>? logger = null)
        : this(CreateDataSource(options), ownsDataSource: true, layout, options, logger)
    {
    }

    private PgvectorAdaptiveStore(NpgsqlDataSource dataSource, bool ownsDataSource, EmbeddingLayout layout, PgvectorStoreOptions options, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        options = options.Clone();
        options.Validate();
        if (typeof(TKey) != typeof(long) && typeof(TKey) != typeof(Guid) && typeof(TKey) != typeof(string))
        {
            throw new NotSupportedException($"Key type {typeof(TKey).Name} is not supported; use long, Guid or string.");
        }

        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        Layout = layout;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _retry = new PgvectorRetry(options.ResiliencePipeline ?? PgvectorResilience.CreateRetryPipeline(options.MaxRetries, options.RetryDelay, _logger), dataSource);
        _telemetry = new StoreTelemetry(SystemName, options.Table, layout, ActivityKind.Client);
        _inspector = new PgvectorSchemaInspector<TKey>(dataSource, options, layout, _logger);
        _writer = new PgvectorWriter<TKey>(dataSource, options);
    }

    /// <inheritdoc />
    public EmbeddingLayout Layout { get; }

    /// <summary>
    /// Full vectors kept in process, keyed by record key and row version (<c>xmin</c>). With a cache, pass 1 returns keys,
    /// versions and payloads only; cached vectors at the current version are reranked without a fetch, and misses and
    /// stale entries are fetched in one batched query. Null (the default) fetches every candidate's full vector.
    /// </summary>
    /// <exception cref="ArgumentException">The cache holds vectors of another length than the layout's full dimensions.</exception>
    public IFullVectorCache<TKey>? FullVectorCache
    {
        get => _cached?.Cache;
        init => _cached = value is null ? null : new CachedCandidateSource<TKey>(this, value);
    }

    /// <summary>The data source the store queries through.</summary>
    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>
    /// Checks that pgvector is installed (0.7 or later) and that the table fits the layout; creates the table, its prefix
    /// and its index when <see cref="PgvectorStoreOptions.CreateTableIfMissing"/> is set and the table does not exist.
    /// </summary>
    /// <exception cref="SchemaMismatchException">pgvector is missing or too old, or the table differs from the layout.</exception>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        await _schemaLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _table = await _inspector.InspectAsync(create: _options.CreateTableIfMissing, cancellationToken).ConfigureAwait(false);
            await _inspector.CheckPrefixIndexAsync(explicitCheck: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    /// <summary>
    /// Builds the prefix index, and the full-dimension index when <see cref="PgvectorStoreOptions.CreateFullDimensionIndex"/> is set,
    /// with <c>CREATE INDEX CONCURRENTLY</c>; an index that already exists and is valid is kept. Use after a bulk load with
    /// <see cref="PgvectorStoreOptions.DeferIndexes"/>.
    /// </summary>
    public Task<IReadOnlyList<IndexBuild>> CreateIndexesAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        new PgvectorMigrator(_dataSource, Layout, _options).BuildIndexesAsync(migration, progress, cancellationToken);

    private async Task UpsertWithRetriesAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken)
    {
        VectorRecordValidator.Validate(Layout, records);
        var table = await _retry.ExecuteAsync("inspect", ct => GetTableAsync(ct).AsTask(), cancellationToken).ConfigureAwait(false);
        _writer.CheckPayloadFields(records);
        PgvectorValueRules.CheckRecords(table, records);

        for (var start = 0; start < records.Count; start += _options.UpsertBatchSize)
        {
            var count = Math.Min(_options.UpsertBatchSize, records.Count - start);
            var batch = records is VectorRecord<TKey>[] array ? new ArraySegment<VectorRecord<TKey>>(array, start, count) : records.Skip(start).Take(count).ToArray();
            var copy = _options.CopyThreshold > 0 && count >= _options.CopyThreshold;
            await _retry.ExecuteAsync("upsert", ct => copy ? _writer.UpsertWithCopyAsync(table, batch, ct) : _writer.UpsertWithStatementsAsync(table, batch, ct), cancellationToken)
                .ConfigureAwait(false);
        }
    }

    private async Task<int> DeleteOnceAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return 0;
        }

        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(table.Delete);
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.Add(new NpgsqlParameter<TKey[]> { TypedValue = keys.ToArray() });
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<VectorRecord<TKey>?> GetOnceAsync(TKey key, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(table.Get);
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.Add(new NpgsqlParameter<TKey> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        var vector = ReadFull(reader, 1, table.FullType, destination: null);
        return new VectorRecord<TKey>(reader.GetFieldValue<TKey>(0), vector, ReadPayload(reader, 2));
    }

    private async Task<long> CountOnceAsync(Filter? filter, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        var parameters = new List<NpgsqlParameter>();
        await using var command = _dataSource.CreateCommand(table.Count(filter, parameters));
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.AddRange(parameters.ToArray());
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    /// <remarks>One query, retried after a transient error; ordered by the payload's jsonb values (or the payload columns), then the key.</remarks>
    /// <exception cref="ArgumentException">A text value of the filter holds a NUL character or a lone surrogate, or a field is not a payload column.</exception>
    public Task<IReadOnlyList<VectorRecord<TKey>>> GetAsync(Filter? filter, int top, RecordQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = RecordQueryOptions.Check(top, options);
        return _telemetry.TraceAsync(StoreOperations.Get, this, (filter, top, options),
            static (s, a, ct) => s._retry.ExecuteAsync("get", c => s.QueryOnceAsync(a.filter, a.top, a.options, c), ct), static records => records.Count, cancellationToken);
    }

    private async Task<IReadOnlyList<VectorRecord<TKey>>> QueryOnceAsync(Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        var parameters = new List<NpgsqlParameter> { new NpgsqlParameter<int> { TypedValue = top }, new NpgsqlParameter<int> { TypedValue = options.Skip } };
        await using var command = _dataSource.CreateCommand(table.Query(filter, options.OrderBy, options.IncludeVectors, parameters));
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.AddRange(parameters.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<VectorRecord<TKey>>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var vector = options.IncludeVectors ? ReadFull(reader, 1, table.FullType, destination: null) : ReadOnlyMemory<float>.Empty;
            records.Add(new VectorRecord<TKey>(reader.GetFieldValue<TKey>(0), vector, ReadPayload(reader, 2)));
        }

        return records;
    }

    private async Task<SearchResult<TKey>> SearchOnceAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        return options.Strategy switch
        {
            SearchStrategy.FullDimension => await SearchFullDimensionsAsync(query, options, cancellationToken).ConfigureAwait(false),
            SearchStrategy.TwoPassInDatabase => await SearchRerankInDatabaseAsync(query, options, cancellationToken).ConfigureAwait(false),
            _ => await TwoPassRetriever.SearchAsync(Layout, this, query, options, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <inheritdoc />
    async ValueTask<CandidateBatch<TKey>> ICandidateSource<TKey>.FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        if (_cached is not null && request.IncludeFullVectors)
        {
            return await _cached.FetchCandidatesAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var parameters = new List<NpgsqlParameter> { PrefixParameter(table, request.PrefixQuery), new NpgsqlParameter<int> { TypedValue = request.Count } };
        var sql = table.Pass1(request.Filter, request.IncludeFullVectors, parameters);

        var strictOrder = !request.IncludeFullVectors;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateSearchBatch(connection, table, request.Count, request.EfSearch, request.Filter is not null, strictOrder, sql, parameters);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await SkipSettingsResultsAsync(reader, batch.BatchCommands.Count - 1, cancellationToken).ConfigureAwait(false);

        var d = Layout.FullDimensions;
        var buffer = request.IncludeFullVectors && table.FullType == VectorType.HalfVec ? new CandidateVectorBuffer(request.Count, d) : null;
        var candidates = new List<Candidate<TKey>>(Math.Min(request.Count, InitialRowCapacity));
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var full = ReadOnlyMemory<float>.Empty;
            if (request.IncludeFullVectors)
            {
                full = ReadFull(reader, 2, table.FullType, buffer?.Slot(candidates.Count));
                bytes += (long)d * (table.FullType == VectorType.HalfVec ? 2 : 4);
            }

            candidates.Add(new Candidate<TKey>(reader.GetFieldValue<TKey>(0), table.Score(reader.GetDouble(1)), full, ReadPayload(reader, 3)));
        }

        return new CandidateBatch<TKey>(candidates, bytes) { Vectors = buffer };
    }

    /// <summary>
    /// Streams every full vector into <see cref="FullVectorCache"/> with binary COPY, reporting the rows read so far.
    /// A cache smaller than the table keeps what its budget allows.
    /// </summary>
    /// <returns>The rows read.</returns>
    /// <exception cref="InvalidOperationException">The store has no cache.</exception>
    public async Task<long> WarmAsync(IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        var cached = _cached ?? throw new InvalidOperationException("This store has no FullVectorCache to warm.");
        var cache = cached.Cache;
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var export = await connection.BeginBinaryExportAsync(table.CopyFullVectorsOut, cancellationToken).ConfigureAwait(false);
        var buffer = new float[Layout.FullDimensions];
        long rows = 0;
        while (await export.StartRowAsync(cancellationToken).ConfigureAwait(false) >= 0)
        {
            var key = await export.ReadAsync<TKey>(cancellationToken).ConfigureAwait(false);
            var version = await export.ReadAsync<long>(cancellationToken).ConfigureAwait(false);
            if (table.FullType == VectorType.HalfVec)
            {
                var half = await export.ReadAsync<HalfVector>(cancellationToken).ConfigureAwait(false);
                TensorPrimitives.ConvertToSingle(half.Memory.Span, buffer);
                cache.Put(key, version, buffer);
            }
            else
            {
                var vector = await export.ReadAsync<Vector>(cancellationToken).ConfigureAwait(false);
                cache.Put(key, version, vector.Memory.Span);
            }

            if (++rows % 10_000 == 0)
            {
                progress?.Report(rows);
            }
        }

        progress?.Report(rows);
        cached.MarkWarm();
        return rows;
    }

    /// <summary>
    /// A string that changes when the table is re-created, truncated or rewritten (database, OID and relfilenode): the
    /// identity a <see cref="MemoryMappedFullVectorCache{TKey}"/> file is checked against when it is opened again.
    /// </summary>
    public async Task<string> GetTableIdentityAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PgvectorTable.TableIdentity);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_options.Schema, _options.Table) });
        return (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new SchemaMismatchException($"Table {SqlIdentifier.Qualified(_options.Schema, _options.Table)} does not exist.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _schemaLock.Dispose();
        if (_ownsDataSource)
        {
            _dataSource.Dispose();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _schemaLock.Dispose();
        if (_ownsDataSource)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    int IVersionedCandidateSource<TKey>.FullDimensions => Layout.FullDimensions;

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadVersionedCandidatesAsync(
        CandidateRequest request, List<VersionedCandidate<TKey>> rows, CandidateVectorBuffer? fullVectors, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        var parameters = new List<NpgsqlParameter> { PrefixParameter(table, request.PrefixQuery), new NpgsqlParameter<int> { TypedValue = request.Count } };
        var sql = fullVectors is not null ? table.Pass1WithVersionsAndVectors(request.Filter, parameters) : table.Pass1WithVersions(request.Filter, parameters);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateSearchBatch(connection, table, request.Count, request.EfSearch, request.Filter is not null, strictOrder: false, sql, parameters);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await SkipSettingsResultsAsync(reader, batch.BatchCommands.Count - 1, cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (fullVectors is not null)
            {
                ReadFullInto(reader, 4, table.FullType, fullVectors.Slot(rows.Count));
                bytes += FullVectorBytes(table);
            }

            rows.Add(new VersionedCandidate<TKey>(reader.GetFieldValue<TKey>(0), table.Score(reader.GetDouble(1)), reader.GetInt64(2), ReadPayload(reader, 3)));
        }

        return bytes;
    }

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadFullVectorsAsync(
        IReadOnlyDictionary<TKey, int> slots, CandidateVectorBuffer into, Action<int, long> found, CancellationToken cancellationToken)
    {
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand(table.FullVectorsByKey);
        command.CommandTimeout = _options.CommandTimeoutSeconds;
        command.Parameters.Add(new NpgsqlParameter<TKey[]> { TypedValue = slots.Keys.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var slot = slots[reader.GetFieldValue<TKey>(0)];
            ReadFullInto(reader, 2, table.FullType, into.Slot(slot));
            found(slot, reader.GetInt64(1));
            bytes += FullVectorBytes(table);
        }

        return bytes;
    }

    private static NpgsqlDataSource CreateDataSource(PgvectorStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("PgvectorStoreOptions.ConnectionString is required when no NpgsqlDataSource is given.", nameof(options));
        }

        return PgvectorDataSource.Create(options.ConnectionString);
    }

    private async Task<SearchResult<TKey>> SearchRerankInDatabaseAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        Layout.Validate(query.Span, "the query");
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        var count = options.CandidateCount;
        var parameters = new List<NpgsqlParameter>
        {
            PrefixParameter(table, Layout.ToPrefix(query.Span)),
            new NpgsqlParameter<int> { TypedValue = count },
            VectorParameter(table, table.FullType, query),
            new NpgsqlParameter<int> { TypedValue = options.K },
        };
        var sql = table.TwoPassInDatabase(options.Filter, parameters);
        return await RunSingleQueryAsync(table, sql, parameters, count, options, strictOrder: false, SearchStrategy.TwoPassInDatabase, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SearchResult<TKey>> SearchFullDimensionsAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        Layout.Validate(query.Span, "the query");
        var table = await GetTableAsync(cancellationToken).ConfigureAwait(false);
        if (!table.FullDimensionsIndexable)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"pgvector cannot index {Layout.FullDimensions} dimensions (halfvec stops at {PgvectorTable.MaxHalfvecIndexDimensions}), so there is no full-dimension single pass to compare with."));
        }

        var parameters = new List<NpgsqlParameter> { VectorParameter(table, table.FullIndexType, query), new NpgsqlParameter<int> { TypedValue = options.K } };
        var sql = table.FullDimension(options.Filter, parameters);
        return await RunSingleQueryAsync(table, sql, parameters, options.K, options, strictOrder: true, SearchStrategy.FullDimension, cancellationToken).ConfigureAwait(false);
    }

    private async Task<SearchResult<TKey>> RunSingleQueryAsync(
        PgvectorTable table, string sql, List<NpgsqlParameter> parameters, int scanCount, SearchOptions options, bool strictOrder, SearchStrategy strategy, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = CreateSearchBatch(connection, table, scanCount, options.EfSearch, options.Filter is not null, strictOrder, sql, parameters);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await SkipSettingsResultsAsync(reader, batch.BatchCommands.Count - 1, cancellationToken).ConfigureAwait(false);
        var hits = new List<SearchHit<TKey>>(options.K);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            hits.Add(new SearchHit<TKey>(reader.GetFieldValue<TKey>(0), table.Score(reader.GetDouble(1)), ReadPayload(reader, 3)));
        }

        return new SearchResult<TKey>(hits, new SearchDiagnostics
        {
            CandidatesFetched = strategy == SearchStrategy.FullDimension ? hits.Count : scanCount,
            Pass1Time = Stopwatch.GetElapsedTime(start),
            Strategy = strategy,
        });
    }

    // ef_search and the iterative scan are set with set_config(..., true): local to the batch's implicit transaction,
    // in the same round trip as the query.
    private NpgsqlBatch CreateSearchBatch(
        NpgsqlConnection connection, PgvectorTable table, int count, int? efSearch, bool filtered, bool strictOrder, string sql, List<NpgsqlParameter> parameters)
    {
        var ef = Math.Clamp(Math.Max(count, efSearch ?? _options.DefaultEfSearch), 1, 1000);
        var batch = new NpgsqlBatch(connection) { Timeout = _options.CommandTimeoutSeconds };
        batch.BatchCommands.Add(Setting("hnsw.ef_search", ef.ToString(CultureInfo.InvariantCulture)));

        // The index scan must be able to keep going past ef_search rows: for a filter, for more candidates than ef_search can
        // return, and for index entries of rows updated or deleted since the last vacuum, each of which takes one of the
        // ef_search slots and is then dropped (an update-heavy table otherwise returns far fewer than k rows).
        if (table.SupportsIterativeScan)
        {
            batch.BatchCommands.Add(Setting("hnsw.iterative_scan", strictOrder ? "strict_order" : "relaxed_order"));
        }
        else if (filtered || count > ef)
        {
            LogNoIterativeScan(_logger, table.PgvectorVersion.ToString());
        }

        // pgvector's cost estimate of an HNSW scan grows with ef_search, while the estimate of a sequential scan does not count
        // the detoasting of an out-of-line vector: on a table whose vectors live in TOAST, the planner switches an unfiltered
        // search to a sequential scan and an exact sort over every row once ef_search is a few hundred (seconds per query
        // at 100,000 rows). Without a filter, the index is always the intended plan. With one, the planner keeps its choice.
        if (!filtered)
        {
            batch.BatchCommands.Add(Setting("enable_seqscan", "off"));
        }

        var query = new NpgsqlBatchCommand(sql);
        query.Parameters.AddRange(parameters.ToArray());
        batch.BatchCommands.Add(query);
        return batch;

        static NpgsqlBatchCommand Setting(string name, string value) =>
            new("SELECT pg_catalog.set_config($1, $2, true)") { Parameters = { new NpgsqlParameter<string> { TypedValue = name }, new NpgsqlParameter<string> { TypedValue = value } } };
    }

    private static async Task SkipSettingsResultsAsync(NpgsqlDataReader reader, int settings, CancellationToken cancellationToken)
    {
        for (var i = 0; i < settings; i++)
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<PgvectorTable> GetTableAsync(CancellationToken cancellationToken)
    {
        if (_table is { } table)
        {
            return table;
        }

        await _schemaLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_table is null)
            {
                _table = await _inspector.InspectAsync(create: false, cancellationToken).ConfigureAwait(false);
                await _inspector.CheckPrefixIndexAsync(explicitCheck: false, cancellationToken).ConfigureAwait(false);
            }

            return _table;
        }
        finally
        {
            _schemaLock.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pgvector {Version} has no iterative index scans (0.8.0 and later): a filtered search may return fewer than k hits. Upgrade pgvector.")]
    private static partial void LogNoIterativeScan(ILogger logger, string version);

}
