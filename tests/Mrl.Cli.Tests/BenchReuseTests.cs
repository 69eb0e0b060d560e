using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Mrl.Bench;
using Npgsql;

namespace Mrl.Cli.Tests;

public sealed class BenchReuseTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int N = 600, Dims = 32, Queries = 10, K = 10;

    [SkippableFact]
    public async Task A_kept_table_is_measured_again_without_loading_or_building_and_is_kept()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("mrl_bench_reuse");
        IReadOnlyList<IndexBuildRecord> built;
        await using (var first = new PostgresBenchBackend(Data(7), Options(table) with { KeepTable = true }))
        {
            await first.PrepareAsync([8], SilentBenchProgress.Instance, CancellationToken.None);
            built = first.Builds;
        }

        await using (var again = new PostgresBenchBackend(Data(7), Options(table) with { ReuseTable = true }))
        {
            await again.PrepareAsync([8], SilentBenchProgress.Instance, CancellationToken.None);
            Assert.Equal(built.Select(b => (b.Index, b.PrefixDims, b.Bytes)), again.Builds.Select(b => (b.Index, b.PrefixDims, b.Bytes)));
            Assert.All(again.Builds, b => Assert.Null(b.Seconds));
            Assert.All(built, b => Assert.True(b.Seconds > 0));
            Assert.Contains("reused from an earlier run", again.Settings, StringComparison.Ordinal);

            var data = Data(7);
            var full = new BenchConfiguration(BenchStrategy.Full, null, 1, 200);
            await using var lease = await again.OpenAsync(full, SilentBenchProgress.Instance, CancellationToken.None);
            var exact = ExactKnn.Search(data.Base.Values, N, Dims, data.Queries.Row(0), K, DistanceMetric.Cosine).Select(h => (long)h.Index);
            var found = await lease.Search(data.Queries.Row(0), full.ToSearchOptions(K), CancellationToken.None);
            Assert.True(exact.Intersect(found.Hits.Select(h => h.Key)).Count() >= K - 1);
        }

        // Reusing implies keeping: the table is there for the next run.
        Assert.True(await ExistsAsync(table));
        await DropAsync(table);
    }

    [SkippableFact]
    public async Task A_kept_table_of_other_data_or_other_index_parameters_is_refused_naming_the_difference()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("mrl_bench_reuse");
        await using (var first = new PostgresBenchBackend(Data(7), Options(table) with { KeepTable = true }))
        {
            await first.PrepareAsync([8], SilentBenchProgress.Instance, CancellationToken.None);
        }

        Assert.Contains("other data", await RefusalAsync(Data(8), Options(table) with { ReuseTable = true }, 8), StringComparison.Ordinal);
        Assert.Contains("m = 12", await RefusalAsync(Data(7), Options(table) with { ReuseTable = true, HnswM = 12 }, 8), StringComparison.Ordinal);
        Assert.Contains("embedding_p16", await RefusalAsync(Data(7), Options(table) with { ReuseTable = true }, 16), StringComparison.Ordinal);

        // Nothing was dropped by the refusals.
        Assert.True(await ExistsAsync(table));
        await DropAsync(table);
    }

    [SkippableFact]
    public async Task Reuse_without_a_table_loads_and_builds_as_usual()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("mrl_bench_reuse");
        await using (var backend = new PostgresBenchBackend(Data(7), Options(table) with { ReuseTable = true }))
        {
            await backend.PrepareAsync([8], SilentBenchProgress.Instance, CancellationToken.None);
            Assert.All(backend.Builds, b => Assert.True(b.Seconds > 0));
        }

        await DropAsync(table);
    }

    [SkippableFact]
    public async Task A_memory_limit_moves_the_server_into_a_cgroup_sized_per_strategy_and_moves_it_back()
    {
        postgres.RequireServer();
        Skip.IfNot(File.Exists(Path.Combine(DatabaseMemoryLimit.Root, "memory.limit_in_bytes")), "No cgroup v1 memory controller on this machine.");
        Skip.IfNot(Environment.UserName == "root", "Moving the server into a memory cgroup needs root.");
        var postmaster = await PostmasterAsync();
        Skip.If(postmaster is null, "The PostgreSQL server's processes cannot be read from this machine.");

        const long Limit = 4L << 30;
        var table = postgres.NewTableName("mrl_bench_memory");
        var group = Path.Combine(DatabaseMemoryLimit.Root, "mrl_bench_db");
        var cache = new FullVectorCacheOptions(Dims, long.MaxValue, CacheStorage.HalfPrecision).BytesPerEntry * N;
        await using (var backend = new PostgresBenchBackend(Data(7), Options(table) with { DbMemoryLimitBytes = Limit, CacheStorage = CacheStorage.HalfPrecision }))
        {
            await backend.PrepareAsync([8], SilentBenchProgress.Instance, CancellationToken.None);
            Assert.Contains(postmaster.Value.ToString(CultureInfo.InvariantCulture), File.ReadAllLines(Path.Combine(group, "cgroup.procs")));
            Assert.Contains("equal total memory", backend.Settings, StringComparison.Ordinal);

            await using (await backend.OpenAsync(new BenchConfiguration(BenchStrategy.Full, null, 1, 40), SilentBenchProgress.Instance, CancellationToken.None))
            {
                Assert.InRange(ReadLimit(group), Limit + cache - Environment.SystemPageSize, Limit + cache);
            }

            await using (await backend.OpenAsync(new BenchConfiguration(BenchStrategy.TwoPassCachedWarm, 8, 4, 40), SilentBenchProgress.Instance, CancellationToken.None))
            {
                Assert.InRange(ReadLimit(group), Limit - Environment.SystemPageSize, Limit);
            }
        }

        Assert.False(Directory.Exists(group));
        Assert.Contains(File.ReadAllLines($"/proc/{postmaster}/cgroup"), line => line.EndsWith(":memory:/", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_memory_limit_that_cannot_hold_shared_buffers_is_refused_before_anything_is_loaded()
    {
        postgres.RequireServer();
        Skip.IfNot(File.Exists(Path.Combine(DatabaseMemoryLimit.Root, "memory.limit_in_bytes")), "No cgroup v1 memory controller on this machine.");
        Skip.If(await PostmasterAsync() is null, "The PostgreSQL server's processes cannot be read from this machine.");
        var table = postgres.NewTableName("mrl_bench_memory");
        await using var backend = new PostgresBenchBackend(Data(7), Options(table) with { DbMemoryLimitBytes = 1 << 20 });
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => backend.PrepareAsync([8], SilentBenchProgress.Instance, CancellationToken.None));
        Assert.Contains("shared_buffers", error.Message, StringComparison.Ordinal);
        Assert.False(await ExistsAsync(table));
    }

    [Theory]
    [InlineData("2GB", 2L << 30)]
    [InlineData("1536MB", 1536L << 20)]
    [InlineData("3.5GB", 7L << 29)]
    [InlineData(" 512kB ", 512L << 10)]
    public void Memory_sizes_are_read_as_postgresql_writes_them(string text, long bytes) =>
        Assert.Equal(bytes, BenchPlan.ParseBytes(text, "--db-memory-limit"));

    [Theory]
    [InlineData("2G")]
    [InlineData("2 gigabytes")]
    [InlineData("GB")]
    [InlineData("0MB")]
    [InlineData("-1GB")]
    public void A_memory_size_without_a_postgresql_unit_is_refused(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => BenchPlan.ParseBytes(text, "--db-memory-limit"));
        Assert.Contains("--db-memory-limit", error.Message, StringComparison.Ordinal);
    }

    private PostgresBenchOptions Options(string table) => new(postgres.ConnectionString, table, VectorType.Vector, ParallelWorkers: 0,
        MaintenanceWorkMem: "64MB", HnswM: 8, HnswEfConstruction: 32, KeepTable: false, CacheStorage.FullPrecision, FullHnswM: 16, FullHnswEfConstruction: 64);

    private static async Task<string> RefusalAsync(BenchDataset data, PostgresBenchOptions options, int prefix)
    {
        await using var backend = new PostgresBenchBackend(data, options);
        return (await Assert.ThrowsAsync<InvalidOperationException>(() => backend.PrepareAsync([prefix], SilentBenchProgress.Instance, CancellationToken.None))).Message;
    }

    private static long ReadLimit(string group) => long.Parse(File.ReadAllText(Path.Combine(group, "memory.limit_in_bytes")).Trim(), CultureInfo.InvariantCulture);

    // The server's postmaster, found as the parent of this connection's backend; null when the server is not on this machine.
    private async Task<int?> PostmasterAsync()
    {
        await using var command = postgres.DataSource.CreateCommand("SELECT pg_backend_pid()");
        var backend = (int)(await command.ExecuteScalarAsync())!;
        var status = $"/proc/{backend}/status";
        if (!File.Exists(status) || !ServerCpuSample.IsReadablePostgres(backend))
        {
            return null;
        }

        var line = File.ReadLines(status).First(l => l.StartsWith("PPid:", StringComparison.Ordinal));
        return int.Parse(line.AsSpan(5).Trim(), CultureInfo.InvariantCulture);
    }

    private async Task<bool> ExistsAsync(string table)
    {
        await using var command = postgres.DataSource.CreateCommand("SELECT to_regclass($1) IS NOT NULL");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    private async Task DropAsync(string table)
    {
        await using var command = postgres.DataSource.CreateCommand($"DROP TABLE IF EXISTS \"{table}\"");
        await command.ExecuteNonQueryAsync();
    }

    private static BenchDataset Data(int seed) => RandomBenchData.Create(N, Queries, Dims, seed);
}
