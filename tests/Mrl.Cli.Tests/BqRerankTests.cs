using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Mrl.Bench;
using Npgsql;

namespace Mrl.Cli.Tests;

public sealed class BqRerankTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int N = 1_500, Dims = 64, Queries = 20, K = 10;

    [SkippableFact]
    public async Task Bq_rerank_returns_the_exact_top_k_when_its_candidates_hold_them_and_searches_its_own_index()
    {
        postgres.RequireServer();
        var data = Data();
        var table = postgres.NewTableName("mrl_bench_bq");
        await using var backend = new PostgresBenchBackend(data, new PostgresBenchOptions(postgres.ConnectionString, table, VectorType.Vector, ParallelWorkers: 0,
            MaintenanceWorkMem: "64MB", HnswM: 8, HnswEfConstruction: 32, KeepTable: false, CacheStorage.FullPrecision, FullHnswM: 16, FullHnswEfConstruction: 64));
        await backend.PrepareAsync([16], SilentBenchProgress.Instance, CancellationToken.None);

        // 1,000 of 1,500 rows as candidates: the true ten are among them, so the rerank alone decides the order.
        var wide = new BenchConfiguration(BenchStrategy.BqRerank, null, 100, 1_000);
        await using var lease = await backend.OpenAsync(wide, SilentBenchProgress.Instance, CancellationToken.None);
        for (var q = 0; q < Queries; q++)
        {
            var exact = ExactKnn.Search(data.Base.Values, N, Dims, data.Queries.Row(q), K, DistanceMetric.Cosine).Select(h => (long)h.Index).ToArray();
            var result = await lease.Search(data.Queries.Row(q), wide.ToSearchOptions(K), CancellationToken.None);
            Assert.Equal(exact, result.Hits.Select(h => h.Key));
            Assert.Equal(K * 100, result.Diagnostics.CandidatesFetched);
        }

        var narrow = new BenchConfiguration(BenchStrategy.BqRerank, null, 1, 40);
        var few = await lease.Search(data.Queries.Row(0), narrow.ToSearchOptions(K), CancellationToken.None);
        Assert.Equal(K, few.Hits.Select(h => h.Key).Distinct().Count());
        Assert.Equal(few.Hits.OrderByDescending(h => h.Score).Select(h => h.Key), few.Hits.Select(h => h.Key));

        var bq = Assert.Single(backend.Builds, b => b.Strategy == BenchStrategy.BqRerank);
        Assert.True(bq.Bytes > 0 && bq.Seconds > 0);
        Assert.Equal(bq.Seconds, backend.IndexCost(wide).Seconds);
        Assert.Contains(bq.Index, await PlanAsync(table), StringComparison.Ordinal);
        Assert.Contains("(m='16', ef_construction='64')", await IndexDefinitionAsync(bq.Index), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task The_database_cpu_of_a_measurement_is_read_for_a_local_server()
    {
        postgres.RequireServer();
        var data = Data();
        await using var backend = new PostgresBenchBackend(data, new PostgresBenchOptions(postgres.ConnectionString, postgres.NewTableName("mrl_bench_cpu"), VectorType.Vector,
            ParallelWorkers: 0, MaintenanceWorkMem: "64MB", HnswM: 8, HnswEfConstruction: 32, KeepTable: false, CacheStorage.FullPrecision));
        await backend.PrepareAsync([16], SilentBenchProgress.Instance, CancellationToken.None);
        Skip.If(await backend.SampleServerCpuAsync(CancellationToken.None) is null, "The PostgreSQL server's processes cannot be read from this machine.");

        var full = new BenchConfiguration(BenchStrategy.Full, null, 1, 40);
        await using var lease = await backend.OpenAsync(full, SilentBenchProgress.Instance, CancellationToken.None);
        var truth = new VectorMatrix<int>(new int[Queries * K], Queries, K);
        var measurement = await Measurement.RunAsync(lease.Search, full.ToSearchOptions(K), data.Queries, truth, 2, 4, null, backend.SampleServerCpuAsync, CancellationToken.None);

        // A search over 1,500 rows costs the server well over a microsecond and well under a second.
        Assert.InRange(measurement.DbCpuMsPerQuery!.Value, 0.001, 1_000);
    }

    private async Task<string> PlanAsync(string table)
    {
        await using var connection = await postgres.DataSource.OpenConnectionAsync();
        await using (var off = new NpgsqlCommand("SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        await using var explain = new NpgsqlCommand(
            $"EXPLAIN SELECT id FROM \"{table}\" ORDER BY CAST(binary_quantize(embedding) AS bit({Dims})) <~> binary_quantize(CAST($1 AS vector({Dims}))) LIMIT 100", connection);
        explain.Parameters.Add(new NpgsqlParameter { Value = new Pgvector.Vector(new float[Dims].Select((_, i) => i % 2 == 0 ? 1f : -1f).ToArray()) });
        var plan = new List<string>();
        await using var reader = await explain.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(0));
        }

        return string.Join('\n', plan);
    }

    private async Task<string> IndexDefinitionAsync(string index)
    {
        await using var command = postgres.DataSource.CreateCommand("SELECT pg_get_indexdef(to_regclass($1))");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = index });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static BenchDataset Data() => RandomBenchData.Create(N, Queries, Dims, 11);
}
