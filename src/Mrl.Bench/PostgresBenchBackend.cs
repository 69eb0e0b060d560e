using System.Diagnostics;
using System.Globalization;
using System.Net;
using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Pgvector;
using Npgsql;

namespace Mrl.Bench;

/// <summary>How the PostgreSQL benchmark table is made.</summary>
/// <param name="ConnectionString">The server.</param>
/// <param name="Table">The table, <c>name</c> or <c>schema.name</c>; dropped and re-created.</param>
/// <param name="FullType">The full column's type.</param>
/// <param name="ParallelWorkers">The table's <c>parallel_workers</c>; null for the server's <c>max_parallel_maintenance_workers</c>.</param>
/// <param name="MaintenanceWorkMem"><c>maintenance_work_mem</c> for the index builds.</param>
/// <param name="HnswM">HNSW m of the prefix indexes.</param>
/// <param name="HnswEfConstruction">HNSW ef_construction of the prefix indexes.</param>
/// <param name="KeepTable">Leave the table in place at the end.</param>
/// <param name="CacheStorage">float32 or float16 values in the full-vector cache.</param>
/// <param name="FullHnswM">HNSW m of the baselines' indexes (full and bq-rerank); null for <paramref name="HnswM"/>.</param>
/// <param name="FullHnswEfConstruction">HNSW ef_construction of the baselines' indexes; null for <paramref name="HnswEfConstruction"/>.</param>
/// <param name="ReuseTable">Take over the table and indexes an earlier run kept, when they hold this data and match this run's parameters.</param>
/// <param name="DbMemoryLimitBytes">
/// A cgroup memory limit on the server during the measurements, for the strategies with the full-vector cache; the others get
/// this plus the cache's size, so that both sides have the same total memory. Null for none.
/// </param>
internal sealed record PostgresBenchOptions(
    string ConnectionString, string Table, VectorType FullType, int? ParallelWorkers, string MaintenanceWorkMem, int HnswM, int HnswEfConstruction,
    bool KeepTable, CacheStorage CacheStorage, int? FullHnswM = null, int? FullHnswEfConstruction = null, bool ReuseTable = false, long? DbMemoryLimitBytes = null)
{
    /// <summary>HNSW m of the baselines' indexes.</summary>
    public int BaselineM => FullHnswM ?? HnswM;

    /// <summary>HNSW ef_construction of the baselines' indexes.</summary>
    public int BaselineEfConstruction => FullHnswEfConstruction ?? HnswEfConstruction;
}

/// <summary>
/// PostgreSQL with pgvector: one table, loaded once, with one prefix column per prefix size (each filled by its trigger as
/// rows arrive), then <c>VACUUM (ANALYZE)</c>, <c>parallel_workers</c> set on the table, and every HNSW index built once,
/// all at the same parallelism: the prefix indexes by the store's migrator, the baselines' (full dimension, and binary
/// quantization when <c>bq-rerank</c> first runs) by this class with their own m and ef_construction. The database CPU of
/// each measurement is read from /proc for the backends of this benchmark's connections (found by their application_name),
/// where the server runs on this machine.
/// </summary>
internal sealed partial class PostgresBenchBackend : IBenchBackend
{
    private const int LoadBatch = 5_000;
    private readonly BenchDataset _data;
    private readonly PostgresBenchOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _monitor;
    private readonly string _applicationName;
    private readonly string _schema;
    private readonly string _table;
    private readonly List<IndexBuildRecord> _builds = [];
    private readonly Dictionary<int, PgvectorAdaptiveStore<long>> _stores = [];
    private readonly Dictionary<int, PgvectorAdaptiveStore<long>> _warmStores = [];
    private IReadOnlyList<int> _prefixDims = [];
    private InMemoryFullVectorCache<long>? _warmCache;
    private string _settings = "";
    private PostgresBenchSql? _sql;
    private IndexBuildRecord? _bqBuild;
    private bool _serverCpuReadable;
    private DatabaseMemoryLimit? _memoryLimit;

    public PostgresBenchBackend(BenchDataset data, PostgresBenchOptions options)
    {
        _data = data;
        _options = options;
        (_schema, _table) = SqlIdentifier.ParseQualified(options.Table);
        var unsupported = new Dictionary<string, string>();
        if (data.Dimensions > 4_000)
        {
            unsupported[BenchStrategy.Full] = string.Create(CultureInfo.InvariantCulture,
                $"pgvector's HNSW indexes at most 4,000 dimensions (halfvec); these vectors have {data.Dimensions}");
        }

        Features = new BackendFeatures(EfSearch: true, MaxEfSearch: 1_000, unsupported);
        // The benchmark's own connections carry a name of their own, by which their server processes are found.
        _applicationName = string.Create(CultureInfo.InvariantCulture, $"mrl bench {Environment.ProcessId} {Guid.NewGuid().ToString("N")[..8]}");
        _dataSource = PgvectorDataSource.Create(new NpgsqlConnectionStringBuilder(options.ConnectionString) { ApplicationName = _applicationName }.ConnectionString);
        _monitor = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(options.ConnectionString) { ApplicationName = _applicationName + " monitor", MaxPoolSize = 1 }.ConnectionString);
    }

    public string Name => "postgres";

    public BackendFeatures Features { get; }

    public string Settings => _settings;

    public IReadOnlyList<IndexBuildRecord> Builds => _builds;

    public async Task PrepareAsync(IReadOnlyList<int> prefixDims, IBenchProgress progress, CancellationToken cancellationToken)
    {
        _prefixDims = prefixDims;
        var first = prefixDims[0];
        var maintenance = new PgvectorMaintenance(_dataSource, StoreOptions(first));
        _serverCpuReadable = await IsServerLocalAsync(cancellationToken);
        var sharedBuffers = await CheckMemoryLimitAsync(cancellationToken);

        // The table is dropped and re-created: never one that this command did not name itself.
        if (!_table.StartsWith("mrl_bench", StringComparison.Ordinal) && await maintenance.TableExistsAsync(cancellationToken))
        {
            throw new InvalidOperationException(
                $"Table {_schema}.{_table} exists. mrl bench drops and re-creates its table, so it only replaces tables named mrl_bench*; choose another --table.");
        }

        var reused = _options.ReuseTable && await TryReuseAsync(maintenance, prefixDims, cancellationToken);
        if (!reused)
        {
            await LoadAndBuildAsync(maintenance, prefixDims, progress, cancellationToken);
        }

        foreach (var p in prefixDims)
        {
            var options = StoreOptions(p);
            options.CreateTableIfMissing = false;
            _stores[p] = new PgvectorAdaptiveStore<long>(_dataSource, Layout(p), options);
        }

        var build = await maintenance.ReadBuildSettingsAsync(cancellationToken);
        var heap = await maintenance.ReadTableBytesAsync(cancellationToken);
        if (_options.DbMemoryLimitBytes is { } limit)
        {
            await using var pid = _monitor.CreateCommand("SELECT pg_catalog.pg_backend_pid()");
            _memoryLimit = DatabaseMemoryLimit.Create((int)(await pid.ExecuteScalarAsync(cancellationToken))!, limit, sharedBuffers);
        }

        var inline = _options.FullType == VectorType.Vector ? _data.Dimensions <= 1_900 : _data.Dimensions <= 3_900;
        _settings = string.Create(CultureInfo.InvariantCulture,
            $"pgvector table {_schema}.{_table}{(reused ? " (reused from an earlier run: its load and builds were not timed in this one)" : "")}: full column {(_options.FullType == VectorType.HalfVec ? "halfvec" : "vector")}({_data.Dimensions}) {(inline ? "inline (STORAGE PLAIN)" : "in TOAST (STORAGE EXTERNAL)")}, ") +
            string.Create(CultureInfo.InvariantCulture,
            $"prefix columns halfvec(p), heap {heap / 1048576.0:F0} MiB; prefix HNSW m={_options.HnswM}, ef_construction={_options.HnswEfConstruction}; ") +
            string.Create(CultureInfo.InvariantCulture,
            $"full and bq-rerank HNSW m={_options.BaselineM}, ef_construction={_options.BaselineEfConstruction}; ") +
            (_serverCpuReadable
                ? "database CPU: the server's backends of this benchmark's connections, on-CPU time from /proc/<pid>/schedstat (or utime + stime), summed over each measurement; "
                : "database CPU: not measured (the server's processes cannot be read from this machine); ") +
            MemoryLimitSettings(sharedBuffers) +
            string.Create(CultureInfo.InvariantCulture,
            $"parallel_workers={build.TableParallelWorkers} (max_parallel_maintenance_workers={build.MaxParallelMaintenanceWorkers}, max_parallel_workers={build.MaxParallelWorkers}), maintenance_work_mem={_options.MaintenanceWorkMem}");
    }

    public async Task<StoreLease> OpenAsync(BenchConfiguration configuration, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var p = configuration.PrefixDims ?? _prefixDims[0];
        _memoryLimit?.Set(MemoryLimitFor(configuration.Strategy));
        switch (configuration.Strategy)
        {
            case BenchStrategy.TwoPassCachedCold:
                var cold = new PgvectorAdaptiveStore<long>(_dataSource, Layout(p), SearchOptions(p)) { FullVectorCache = NewCache() };

                // The catalog checks of a new store's first search are not part of a cold cache's cost.
                await cold.EnsureSchemaAsync(cancellationToken);
                return new StoreLease(cold, cold.DisposeAsync);
            case BenchStrategy.TwoPassCachedWarm:
                if (_warmCache is null)
                {
                    _warmCache = NewCache();
                    await using var warmer = new PgvectorAdaptiveStore<long>(_dataSource, Layout(p), SearchOptions(p)) { FullVectorCache = _warmCache };
                    var task = progress.AddTask("Warming the full-vector cache", maxValue: _data.Count);
                    await warmer.WarmAsync(new Progress<long>(rows => task.Value = rows), cancellationToken);
                    task.Value = _data.Count;
                    task.StopTask();
                }

                if (!_warmStores.TryGetValue(p, out var warm))
                {
                    warm = new PgvectorAdaptiveStore<long>(_dataSource, Layout(p), SearchOptions(p)) { FullVectorCache = _warmCache };
                    _warmStores[p] = warm;
                }

                return new StoreLease(warm);
            case BenchStrategy.BqRerank:
                await EnsureBqIndexAsync(progress, cancellationToken);
                return new StoreLease(SearchBqAsync);
            default:
                return new StoreLease(_stores[p]);
        }
    }

    public (double? Seconds, long? Bytes) IndexCost(BenchConfiguration configuration)
    {
        var build = configuration.Strategy == BenchStrategy.BqRerank ? _bqBuild : _builds.FirstOrDefault(b => b.PrefixDims == configuration.PrefixDims && b.Strategy is null);
        return (build?.Seconds, build?.Bytes);
    }

    public async Task<ServerCpuSample?> SampleServerCpuAsync(CancellationToken cancellationToken)
    {
        if (!_serverCpuReadable)
        {
            return null;
        }

        await using var command = _monitor.CreateCommand("SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _applicationName });
        var pids = new List<int>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                pids.Add(reader.GetInt32(0));
            }
        }

        return ServerCpuSample.Read(pids);
    }

    public async ValueTask DisposeAsync()
    {
        _memoryLimit?.Dispose();
        foreach (var store in _stores.Values.Concat(_warmStores.Values))
        {
            await store.DisposeAsync();
        }

        try
        {
            var maintenance = new PgvectorMaintenance(_dataSource, StoreOptions(_prefixDims.Count > 0 ? _prefixDims[0] : 1));
            if (!_options.KeepTable && !_options.ReuseTable && _prefixDims.Count > 0 && await maintenance.TableExistsAsync())
            {
                foreach (var p in _prefixDims)
                {
                    await new PgvectorMigrator(_dataSource, Layout(p), StoreOptions(p)).DownAsync();
                }

                await maintenance.DropTableAsync();
            }
        }
        finally
        {
            await _dataSource.DisposeAsync();
            await _monitor.DisposeAsync();
        }
    }

    // The full-vector cache's payload: what the strategies without it get on top of the database's limit.
    private long CacheBytes => new FullVectorCacheOptions(_data.Dimensions, long.MaxValue, _options.CacheStorage).BytesPerEntry * _data.Count;

    private long MemoryLimitFor(string strategy) =>
        strategy is BenchStrategy.TwoPassCachedCold or BenchStrategy.TwoPassCachedWarm
            ? _options.DbMemoryLimitBytes!.Value
            : _options.DbMemoryLimitBytes!.Value + CacheBytes;

    // Checked before anything is loaded: a limit that cannot work fails now, not after an hour of loading. Returns shared_buffers.
    private async Task<long> CheckMemoryLimitAsync(CancellationToken cancellationToken)
    {
        await using var command = _monitor.CreateCommand("SELECT pg_catalog.pg_size_bytes(pg_catalog.current_setting('shared_buffers'))");
        var sharedBuffers = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (_options.DbMemoryLimitBytes is { } limit)
        {
            if (!_serverCpuReadable)
            {
                throw new InvalidOperationException("--db-memory-limit needs the PostgreSQL server on this machine (connected over loopback or a socket), run as root: it moves the server's processes into a memory cgroup.");
            }

            DatabaseMemoryLimit.Check(limit, sharedBuffers);
        }

        return sharedBuffers;
    }

    private string MemoryLimitSettings(long sharedBuffers) => _options.DbMemoryLimitBytes is { } limit
        ? string.Create(CultureInfo.InvariantCulture,
            $"database memory (cgroup v1: page cache and the backends; shared_buffers {DatabaseMemoryLimit.Bytes(sharedBuffers)}, only the part first touched after the move): {DatabaseMemoryLimit.Bytes(limit)} for two-pass-cached-*, whose cache holds up to {DatabaseMemoryLimit.Bytes(CacheBytes)} ({_options.CacheStorage}) in process; {DatabaseMemoryLimit.Bytes(limit + CacheBytes)} for the others (equal total memory); ")
        : "";

    private EmbeddingLayout Layout(int p) => new(_data.Dimensions, p, _data.Metric);

    private PgvectorStoreOptions StoreOptions(int p) => new()
    {
        Schema = _schema,
        Table = _table,
        PrefixColumn = string.Create(CultureInfo.InvariantCulture, $"embedding_p{p}"),
        FullVectorType = _options.FullType,
        DeferIndexes = true,
        HnswM = _options.HnswM,
        HnswEfConstruction = _options.HnswEfConstruction,
        CommandTimeoutSeconds = 600,
    };

    private PgvectorStoreOptions SearchOptions(int p)
    {
        var options = StoreOptions(p);
        options.CreateTableIfMissing = false;
        return options;
    }

    private InMemoryFullVectorCache<long> NewCache()
    {
        // Room for every row, plus the slack of a partly filled chunk in each of the cache's 16 stripes.
        var entry = new FullVectorCacheOptions(_data.Dimensions, long.MaxValue, _options.CacheStorage).BytesPerEntry;
        return new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(_data.Dimensions, (_data.Count + (16L * 256)) * entry, _options.CacheStorage));
    }

    private async Task LoadAndBuildAsync(PgvectorMaintenance maintenance, IReadOnlyList<int> prefixDims, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var first = prefixDims[0];
        var setup = progress.AddTask("Creating the postgres table", maxValue: prefixDims.Count + 1);
        await maintenance.DropTableAsync(cancellationToken);
        await using (var creator = new PgvectorAdaptiveStore<long>(_dataSource, Layout(first), StoreOptions(first)))
        {
            await creator.EnsureSchemaAsync(cancellationToken);
        }

        setup.Increment(1);

        // Every prefix column exists before the load, so that the triggers fill them as rows arrive: no backfill, no dead rows.
        foreach (var p in prefixDims.Skip(1))
        {
            await new PgvectorMigrator(_dataSource, Layout(p), StoreOptions(p)).AddPrefixWithoutIndexAsync(cancellationToken: cancellationToken);
            setup.Increment(1);
        }

        setup.StopTask();
        await LoadAsync(first, progress, cancellationToken);

        var vacuum = progress.AddTask("VACUUM (ANALYZE)", maxValue: 1);
        await maintenance.VacuumAnalyzeAsync(cancellationToken);
        vacuum.Increment(1);

        var server = await maintenance.ReadBuildSettingsAsync(cancellationToken);
        await maintenance.SetParallelWorkersAsync(_options.ParallelWorkers ?? server.MaxParallelMaintenanceWorkers, cancellationToken);
        var build = await maintenance.ReadBuildSettingsAsync(cancellationToken);

        var migration = new PgvectorMigrationOptions { MaintenanceWorkMem = _options.MaintenanceWorkMem };
        _sql = new PostgresBenchSql(StoreOptions(first), Layout(first), await ReadPgvectorSchemaAsync(cancellationToken));
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var builds = new List<(IndexBuild Build, int? Prefix)>();
        foreach (var p in prefixDims)
        {
            var migrator = new PgvectorMigrator(_dataSource, Layout(p), StoreOptions(p));
            var results = await BuildAsync(() => migrator.BuildIndexesAsync(migration, cancellationToken: cancellationToken), maintenance, progress, seen, cancellationToken);
            builds.Add((results[0], p));
        }

        if (!Features.Unsupported.ContainsKey(BenchStrategy.Full))
        {
            var full = await BuildAsync(
                async () => [await CreateIndexAsync(_sql.FullIndexName, _sql.FullIndex(_options.BaselineM, _options.BaselineEfConstruction), cancellationToken)],
                maintenance, progress, seen, cancellationToken);
            builds.Add((full[0], null));
        }

        foreach (var (index, prefix) in builds.OrderBy(b => b.Prefix ?? int.MaxValue))
        {
            _builds.Add(new IndexBuildRecord(Name, index.Name, prefix, index.Elapsed.TotalSeconds, index.SizeBytes, build.PlannedWorkers,
                seen.TryGetValue(index.Name, out var workers) ? workers : null));
        }
    }

    private async Task LoadAsync(int first, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var task = progress.AddTask("Loading postgres (binary COPY)", maxValue: _data.Count);
        await using var loader = new PgvectorAdaptiveStore<long>(_dataSource, Layout(first), SearchOptions(first));
        await _data.LoadIntoAsync(loader, LoadBatch, loaded => task.Value = loaded, cancellationToken);
        task.StopTask();
    }

    // Built when bq-rerank first runs, so that a run without it does not pay for the build; never during a measurement.
    private async Task EnsureBqIndexAsync(IBenchProgress progress, CancellationToken cancellationToken)
    {
        if (_bqBuild is not null)
        {
            return;
        }

        var sql = _sql!;
        var maintenance = new PgvectorMaintenance(_dataSource, StoreOptions(_prefixDims[0]));
        var build = await maintenance.ReadBuildSettingsAsync(cancellationToken);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = (await BuildAsync(
            async () => [await CreateIndexAsync(sql.BqIndexName, sql.BqIndex(_options.BaselineM, _options.BaselineEfConstruction), cancellationToken)],
            maintenance, progress, seen, cancellationToken))[0];
        _bqBuild = new IndexBuildRecord(Name, result.Name, null, result.Elapsed.TotalSeconds, result.SizeBytes, build.PlannedWorkers,
            seen.TryGetValue(result.Name, out var workers) ? workers : null, BenchStrategy.BqRerank);
        _builds.Add(_bqBuild);
    }

    // One of the baselines' indexes, on a connection of its own with the run's maintenance_work_mem.
    private async Task<IndexBuild> CreateIndexAsync(string name, string statement, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using (var setting = new NpgsqlCommand("SELECT pg_catalog.set_config('maintenance_work_mem', $1, false)", connection))
        {
            setting.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _options.MaintenanceWorkMem });
            await setting.ExecuteNonQueryAsync(cancellationToken);
        }

        var started = Stopwatch.GetTimestamp();
        await using (var create = new NpgsqlCommand(statement, connection) { CommandTimeout = 0 })
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        await using var size = new NpgsqlCommand(PgvectorTable.RelationSize, connection);
        size.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_sql!.Schema, name) });
        return new IndexBuild(name, elapsed, (long)(await size.ExecuteScalarAsync(cancellationToken) ?? 0L));
    }

    // pgvector's binary quantization with a rerank in one statement, with ef_search set for it as the store sets its own.
    private async Task<SearchResult<long>> SearchBqAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var candidates = options.K * options.Oversampling;
        var sql = _sql!;
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(Setting("hnsw.ef_search", Math.Clamp(Math.Max(candidates, options.EfSearch ?? 40), 1, 1_000).ToString(CultureInfo.InvariantCulture)));
        batch.BatchCommands.Add(Setting("enable_seqscan", "off"));
        batch.BatchCommands.Add(new NpgsqlBatchCommand(sql.BqSearch)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = new Pgvector.Vector(query), DataTypeName = sql.VectorParameterType },
                new NpgsqlParameter<int> { TypedValue = candidates },
                new NpgsqlParameter<int> { TypedValue = options.K },
            },
        });
        var hits = new List<SearchHit<long>>(options.K);
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hits.Add(new SearchHit<long>(reader.GetInt64(0), (float)-reader.GetDouble(1), null));
            }
        }

        return new SearchResult<long>(hits, new SearchDiagnostics
        {
            CandidatesFetched = candidates,
            Pass1Time = Stopwatch.GetElapsedTime(started),
            Strategy = SearchStrategy.TwoPassInDatabase,
        });

        static NpgsqlBatchCommand Setting(string name, string value) =>
            new("SELECT pg_catalog.set_config($1, $2, true)") { Parameters = { new NpgsqlParameter<string> { TypedValue = name }, new NpgsqlParameter<string> { TypedValue = value } } };
    }

    private async Task<string> ReadPgvectorSchemaAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(PgvectorCatalog.Extension);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? reader.GetString(1) : throw new InvalidOperationException("The vector extension is not installed.");
    }

    // The backends' CPU can be read from /proc only for a server on this machine, in this process namespace: the monitor
    // connection's own backend must be a postgres process here, and the server's address a loopback one (or a socket).
    private async Task<bool> IsServerLocalAsync(CancellationToken cancellationToken)
    {
        await using var command = _monitor.CreateCommand("SELECT pg_catalog.pg_backend_pid(), pg_catalog.host(pg_catalog.inet_server_addr())");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var pid = reader.GetInt32(0);
        var loopback = reader.IsDBNull(1) || (IPAddress.TryParse(reader.GetString(1), out var address) && IPAddress.IsLoopback(address));
        return loopback && ServerCpuSample.IsReadablePostgres(pid);
    }

    // Builds while polling pg_stat_progress_create_index for the bar, and pg_stat_activity for the workers each build really got.
    private static async Task<IReadOnlyList<IndexBuild>> BuildAsync(
        Func<Task<IReadOnlyList<IndexBuild>>> start, PgvectorMaintenance maintenance, IBenchProgress progress, Dictionary<string, int> workersSeen,
        CancellationToken cancellationToken)
    {
        var task = progress.AddTask("Building HNSW index", maxValue: 1);
        var build = start();
        while (!build.IsCompleted)
        {
            await Task.WhenAny(build, Task.Delay(500, cancellationToken));
            if (build.IsCompleted)
            {
                break;
            }

            foreach (var running in await maintenance.ReadIndexBuildProgressAsync(cancellationToken))
            {
                if (running.IndexName.Length == 0)
                {
                    continue;
                }

                task.Description = "Building " + running.IndexName;
                task.Value = running.BlocksTotal > 0 ? Math.Min(1, running.BlocksDone / (double)running.BlocksTotal) : task.Value;
                workersSeen[running.IndexName] = Math.Max(workersSeen.GetValueOrDefault(running.IndexName), running.ParallelWorkers);
            }
        }

        var builds = await build;
        task.Description = "Built " + string.Join(", ", builds.Select(b => b.Name));
        task.Value = 1;
        task.StopTask();
        return builds;
    }
}
