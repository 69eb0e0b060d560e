using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Diagnostics;
using Npgsql;
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

        var vector = ReadFull(reader, 1, table.FullType);
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
            var vector = options.IncludeVectors ? ReadFull(reader, 1, table.FullType) : ReadOnlyMemory<float>.Empty;
            records.Add(new VectorRecord<TKey>(reader.GetFieldValue<TKey>(0), vector, ReadPayload(reader, 2)));
        }

        return records;
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

    private static NpgsqlDataSource CreateDataSource(PgvectorStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new ArgumentException("PgvectorStoreOptions.ConnectionString is required when no NpgsqlDataSource is given.", nameof(options));
        }

        return PgvectorDataSource.Create(options.ConnectionString);
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
