using System.Globalization;
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
/// <param name="HnswM">HNSW m of every index.</param>
/// <param name="HnswEfConstruction">HNSW ef_construction of every index.</param>
/// <param name="KeepTable">Leave the table in place at the end.</param>
/// <param name="CacheStorage">float32 or float16 values in the full-vector cache.</param>
internal sealed record PostgresBenchOptions(
    string ConnectionString, string Table, VectorType FullType, int? ParallelWorkers, string MaintenanceWorkMem, int HnswM, int HnswEfConstruction,
    bool KeepTable, CacheStorage CacheStorage);

/// <summary>
/// PostgreSQL with pgvector: one table, loaded once, with one prefix column per prefix size (each filled by its trigger as
/// rows arrive), then <c>VACUUM (ANALYZE)</c>, <c>parallel_workers</c> set on the table, and every HNSW index built once,
/// the full-dimension one included, all at the same parallelism.
/// </summary>
internal sealed class PostgresBenchBackend : IBenchBackend
{
    private const int LoadBatch = 5_000;
    private readonly BenchDataset _data;
    private readonly PostgresBenchOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly string _table;
    private readonly List<IndexBuildRecord> _builds = [];
    private readonly Dictionary<int, PgvectorAdaptiveStore<long>> _stores = [];
    private readonly Dictionary<int, PgvectorAdaptiveStore<long>> _warmStores = [];
    private IReadOnlyList<int> _prefixDims = [];
    private InMemoryFullVectorCache<long>? _warmCache;
    private string _settings = "";

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
        _dataSource = PgvectorDataSource.Create(options.ConnectionString);
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

        // The table is dropped and re-created: never one that this command did not name itself.
        if (!_table.StartsWith("mrl_bench", StringComparison.Ordinal) && await maintenance.TableExistsAsync(cancellationToken))
        {
            throw new InvalidOperationException(
                $"Table {_schema}.{_table} exists. mrl bench drops and re-creates its table, so it only replaces tables named mrl_bench*; choose another --table.");
        }

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
        var heap = await maintenance.ReadTableBytesAsync(cancellationToken);

        var migration = new PgvectorMigrationOptions { MaintenanceWorkMem = _options.MaintenanceWorkMem };
        var withFull = !Features.Unsupported.ContainsKey(BenchStrategy.Full);
        var fullOptions = StoreOptions(first);
        fullOptions.CreateFullDimensionIndex = withFull;
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var builds = new List<(IndexBuild Build, int? Prefix)>();
        var results = await BuildAsync(new PgvectorMigrator(_dataSource, Layout(first), fullOptions), maintenance, progress, seen, migration, cancellationToken);
        builds.Add((results[0], first));
        if (withFull)
        {
            builds.Add((results[^1], null));
        }

        foreach (var p in prefixDims.Skip(1))
        {
            results = await BuildAsync(new PgvectorMigrator(_dataSource, Layout(p), StoreOptions(p)), maintenance, progress, seen, migration, cancellationToken);
            builds.Add((results[0], p));
        }

        foreach (var (index, prefix) in builds.OrderBy(b => b.Prefix ?? int.MaxValue))
        {
            _builds.Add(new IndexBuildRecord(Name, index.Name, prefix, index.Elapsed.TotalSeconds, index.SizeBytes, build.PlannedWorkers,
                seen.TryGetValue(index.Name, out var workers) ? workers : null));
        }

        foreach (var p in prefixDims)
        {
            var options = StoreOptions(p);
            options.CreateTableIfMissing = false;
            _stores[p] = new PgvectorAdaptiveStore<long>(_dataSource, Layout(p), options);
        }

        var inline = _options.FullType == VectorType.Vector ? _data.Dimensions <= 1_900 : _data.Dimensions <= 3_900;
        _settings = string.Create(CultureInfo.InvariantCulture,
            $"pgvector table {_schema}.{_table}: full column {(_options.FullType == VectorType.HalfVec ? "halfvec" : "vector")}({_data.Dimensions}) {(inline ? "inline (STORAGE PLAIN)" : "in TOAST (STORAGE EXTERNAL)")}, ") +
            string.Create(CultureInfo.InvariantCulture,
            $"prefix columns halfvec(p), heap {heap / 1048576.0:F0} MiB; HNSW m={_options.HnswM}, ef_construction={_options.HnswEfConstruction}; ") +
            string.Create(CultureInfo.InvariantCulture,
            $"parallel_workers={build.TableParallelWorkers} (max_parallel_maintenance_workers={build.MaxParallelMaintenanceWorkers}, max_parallel_workers={build.MaxParallelWorkers}), maintenance_work_mem={_options.MaintenanceWorkMem}");
    }

    public async Task<StoreLease> OpenAsync(BenchConfiguration configuration, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var p = configuration.PrefixDims ?? _prefixDims[0];
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
            default:
                return new StoreLease(_stores[p]);
        }
    }

    public (double? Seconds, long? Bytes) IndexCost(BenchConfiguration configuration)
    {
        var build = _builds.FirstOrDefault(b => b.PrefixDims == configuration.PrefixDims);
        return (build?.Seconds, build?.Bytes);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores.Values.Concat(_warmStores.Values))
        {
            await store.DisposeAsync();
        }

        try
        {
            var maintenance = new PgvectorMaintenance(_dataSource, StoreOptions(_prefixDims.Count > 0 ? _prefixDims[0] : 1));
            if (!_options.KeepTable && _prefixDims.Count > 0 && await maintenance.TableExistsAsync())
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
        }
    }

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

    private async Task LoadAsync(int first, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var task = progress.AddTask("Loading postgres (binary COPY)", maxValue: _data.Count);
        await using var loader = new PgvectorAdaptiveStore<long>(_dataSource, Layout(first), SearchOptions(first));
        await _data.LoadIntoAsync(loader, LoadBatch, loaded => task.Value = loaded, cancellationToken);
        task.StopTask();
    }

    // Builds while polling pg_stat_progress_create_index for the bar, and pg_stat_activity for the workers each build really got.
    private static async Task<IReadOnlyList<IndexBuild>> BuildAsync(
        PgvectorMigrator migrator, PgvectorMaintenance maintenance, IBenchProgress progress, Dictionary<string, int> workersSeen,
        PgvectorMigrationOptions migration, CancellationToken cancellationToken)
    {
        var task = progress.AddTask("Building HNSW index", maxValue: 1);
        var build = migrator.BuildIndexesAsync(migration, cancellationToken: cancellationToken);
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
