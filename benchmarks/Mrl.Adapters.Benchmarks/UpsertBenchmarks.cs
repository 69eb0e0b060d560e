using BenchmarkDotNet.Attributes;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Mrl.Bench.Synthetic;
using Npgsql;

namespace Mrl.Adapters.Benchmarks;

/// <summary>
/// Pipelined INSERT ... ON CONFLICT statements against binary COPY into a staging table, for one batch of 768-d records.
/// The tables have no HNSW index (DeferIndexes), so the figures compare the write paths themselves; maintaining an index
/// adds the same cost to both. Needs a server: MRL_BENCH_POSTGRES, a connection string to a database with the vector extension.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class UpsertBenchmarks
{
    private const int Dimensions = 768;
    private NpgsqlDataSource _dataSource = null!;
    private PgvectorAdaptiveStore<long> _statements = null!;
    private PgvectorAdaptiveStore<long> _copy = null!;
    private VectorRecord<long>[] _records = [];

    [Params(1_000, 5_000)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var connection = Environment.GetEnvironmentVariable("MRL_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("Set MRL_BENCH_POSTGRES to a connection string.");
        _dataSource = PgvectorDataSource.Create(connection);
        var layout = new EmbeddingLayout(Dimensions, 128);
        _statements = new PgvectorAdaptiveStore<long>(_dataSource, layout, new PgvectorStoreOptions { Table = "bench_upsert_statements", UpsertBatchSize = BatchSize, DeferIndexes = true });
        _copy = new PgvectorAdaptiveStore<long>(_dataSource, layout, new PgvectorStoreOptions { Table = "bench_upsert_copy", UpsertBatchSize = BatchSize, CopyThreshold = 1, DeferIndexes = true });
        _statements.EnsureSchemaAsync().GetAwaiter().GetResult();
        _copy.EnsureSchemaAsync().GetAwaiter().GetResult();
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions }).Generate(BatchSize);
        _records = Enumerable.Range(0, BatchSize).Select(i => new VectorRecord<long>(i, data.AsMemory(i * Dimensions, Dimensions))).ToArray();
    }

    // Both tables start each iteration empty, so every iteration inserts (the index is maintained as it would be).
    [IterationSetup]
    public void Empty()
    {
        using var truncate = _dataSource.CreateCommand("TRUNCATE bench_upsert_statements, bench_upsert_copy");
        truncate.ExecuteNonQuery();
    }

    [Benchmark(Baseline = true)]
    public Task Statements() => _statements.UpsertAsync(_records);

    [Benchmark]
    public Task Copy() => _copy.UpsertAsync(_records);

    [GlobalCleanup]
    public void Cleanup()
    {
        using (var drop = _dataSource.CreateCommand("DROP TABLE IF EXISTS bench_upsert_statements, bench_upsert_copy"))
        {
            drop.ExecuteNonQuery();
        }

        _dataSource.Dispose();
    }
}
