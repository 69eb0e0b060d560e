using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Pgvector.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PgvectorMigrationTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 64;
    private const int Prefix = 16;
    private static readonly EmbeddingLayout Layout = new(Dimensions, Prefix);

    private static PgvectorStoreOptions ExistingTable(string table, PrefixStorage mode = PrefixStorage.Column) =>
        new() { Table = table, CreateTableIfMissing = false, PrefixStorage = mode };

    // An application's existing table, seeded on the server: random vectors, no prefix.
    private async Task SeedAsync(string table, int rows)
    {
        postgres.RequireServer();
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
        await ExecuteAsync(
            $"INSERT INTO \"{table}\" SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector, jsonb_build_object('n', i) " +
            $"FROM generate_series(1, {rows}) AS i");
    }

    private async Task ExecuteAsync(string sql, NpgsqlDataSource? dataSource = null)
    {
        await using var command = (dataSource ?? postgres.DataSource).CreateCommand(sql);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private Task<long> WrongPrefixesAsync(string table) => ScalarAsync<long>(
        $"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS DISTINCT FROM CAST(l2_normalize(subvector(embedding, 1, {Prefix})) AS halfvec({Prefix}))");

    private Task<bool?> IndexValidAsync(string index) =>
        ScalarAsync<object>($"SELECT (SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('\"{index}\"'))::text")
            .ContinueWith(t => t.Result is string s ? bool.Parse(s) : (bool?)null, TaskScheduler.Default);

    [SkippableFact]
    public async Task Migrating_100k_rows_under_concurrent_writes_leaves_every_prefix_correct()
    {
        var table = postgres.NewTableName("mig");
        await SeedAsync(table, 100_000);
        var options = ExistingTable(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);

        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            var random = new Random(1);
            var next = 200_000L;
            while (!stop.IsCancellationRequested)
            {
                var vector = "[" + string.Join(',', Enumerable.Range(0, Dimensions).Select(_ => (random.NextDouble() - 0.5).ToString("F4", CultureInfo.InvariantCulture))) + "]";
                await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES ({next++}, '{vector}')");
                await ExecuteAsync($"UPDATE \"{table}\" SET embedding = '{vector}' WHERE id = {random.Next(1, 100_000)}");
                writes += 2;
                await Task.Delay(5);
            }
        });

        var started = Stopwatch.GetTimestamp();
        var messages = new List<string>();
        await migrator.UpAsync(new PgvectorMigrationOptions { BatchSize = 5_000, MaintenanceWorkMem = "256MB" }, new SynchronousProgress(p => messages.Add(p.Message)));
        var elapsed = Stopwatch.GetElapsedTime(started);
        await stop.CancelAsync();
        await writer;

        output.WriteLine($"Migrated {table} (100,000 seeded rows, {writes} concurrent writes) in {elapsed.TotalSeconds:F1} s");
        foreach (var message in messages.Where(m => m.Contains("done", StringComparison.Ordinal) || m.StartsWith("backfill: 1", StringComparison.Ordinal)))
        {
            output.WriteLine(message);
        }
        Assert.True(writes > 0);
        Assert.Equal(0, await WrongPrefixesAsync(table));
        Assert.True(await IndexValidAsync(options.ResolvedIndexName(Prefix)));

        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options);
        await store.EnsureSchemaAsync();
        Assert.True(await store.CountAsync() >= 100_000);
    }

    [SkippableFact]
    public async Task Terminating_the_backend_during_the_backfill_then_rerunning_completes_the_job()
    {
        var table = postgres.NewTableName("kill");
        await SeedAsync(table, 30_000);
        var options = ExistingTable(table);

        // Without retries the batch in flight fails and the re-run resumes; with them the migration resumes by itself
        // (Mrl.Adapters.Reliability.Tests covers that).
        options.MaxRetries = 0;
        await using var tagged = PgvectorDataSource.Create(new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { ApplicationName = table }.ConnectionString);
        var migrator = new PgvectorMigrator(tagged, Layout, options);

        var backfilling = new TaskCompletionSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Step == "backfill" && p.Done > 0)
            {
                backfilling.TrySetResult();
            }
        });
        var run = migrator.UpAsync(new PgvectorMigrationOptions { BatchSize = 500, Throttle = TimeSpan.FromMilliseconds(20) }, progress);
        await backfilling.Task.WaitAsync(TimeSpan.FromSeconds(60));
        var terminated = await ScalarAsync<long>($"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '{table}'");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => run);
        Assert.True(error is NpgsqlException || error.InnerException is NpgsqlException, error.ToString());
        output.WriteLine($"Terminated {terminated} backend(s); the migration failed with: {error.Message}");
        Assert.True(terminated >= 1);
        var left = await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NULL");
        Assert.InRange(left, 1, 29_999);

        await migrator.UpAsync(new PgvectorMigrationOptions { BatchSize = 5_000 });
        Assert.Equal(0, await WrongPrefixesAsync(table));
        Assert.True(await IndexValidAsync(options.ResolvedIndexName(Prefix)));
    }

    [SkippableFact]
    public async Task An_invalid_index_left_by_a_cancelled_concurrent_build_is_rebuilt()
    {
        var table = postgres.NewTableName("inval");
        await SeedAsync(table, 20_000);
        var options = ExistingTable(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);
        await migrator.UpAsync();
        var index = options.ResolvedIndexName(Prefix);
        await ExecuteAsync($"DROP INDEX \"{index}\"");

        // A statement timeout cancels the concurrent build half-way, as a killed session would.
        await using (var connection = await postgres.DataSource.OpenConnectionAsync())
        {
            await using var timeout = new NpgsqlCommand("SET statement_timeout = '300ms'", connection);
            await timeout.ExecuteNonQueryAsync();
            await using var build = new NpgsqlCommand(
                $"CREATE INDEX CONCURRENTLY \"{index}\" ON \"{table}\" USING hnsw (embedding_prefix halfvec_cosine_ops) WITH (m = 48, ef_construction = 400)", connection);
            var cancelled = await Assert.ThrowsAsync<PostgresException>(() => build.ExecuteNonQueryAsync());
            Assert.Equal("57014", cancelled.SqlState);
        }

        Assert.False(await IndexValidAsync(index));
        var messages = new List<string>();
        await migrator.UpAsync(progress: new SynchronousProgress(p => messages.Add(p.Message)));

        Assert.True(await IndexValidAsync(index));
        Assert.Contains(messages, m => m.Contains("INVALID", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Up_is_idempotent_and_down_removes_what_up_added()
    {
        var table = postgres.NewTableName("updown");
        await SeedAsync(table, 2_000);
        var options = ExistingTable(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);
        var relfilenode = await ScalarAsync<uint>($"SELECT relfilenode FROM pg_class WHERE oid = '\"{table}\"'::regclass");

        await migrator.UpAsync();
        Assert.Equal(relfilenode, await ScalarAsync<uint>($"SELECT relfilenode FROM pg_class WHERE oid = '\"{table}\"'::regclass"));
        await migrator.UpAsync();
        Assert.Equal(0, await WrongPrefixesAsync(table));

        await migrator.DownAsync();
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM pg_attribute WHERE attrelid = '\"{table}\"'::regclass AND attname = 'embedding_prefix' AND NOT attisdropped"));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{table}\"'::regclass AND NOT tgisinternal"));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM pg_proc WHERE proname = '{options.TriggerName}'"));
        Assert.Null(await IndexValidAsync(options.ResolvedIndexName(Prefix)));
        await migrator.DownAsync();

        await migrator.UpAsync();
        Assert.Equal(0, await WrongPrefixesAsync(table));
    }

    [SkippableFact]
    public async Task Expression_mode_adds_only_the_concurrent_index_and_the_store_searches_through_it()
    {
        var table = postgres.NewTableName("expr");
        await SeedAsync(table, 3_000);
        var options = ExistingTable(table, PrefixStorage.Expression);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);
        await migrator.UpAsync();

        Assert.Equal(3L, await ScalarAsync<long>($"SELECT count(*) FROM pg_attribute WHERE attrelid = '\"{table}\"'::regclass AND attnum > 0 AND NOT attisdropped"));
        Assert.True(await IndexValidAsync(options.ResolvedIndexName(Prefix)));
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options);
        var record = await store.GetAsync(42);
        var hits = (await store.SearchAsync(record!.Vector, new SearchOptions { K = 5 })).Hits;
        Assert.Equal(42, hits[0].Key);
    }

    [SkippableFact]
    public async Task A_migration_waits_for_a_lock_at_most_the_lock_timeout_and_retries_without_blocking_readers()
    {
        var table = postgres.NewTableName("locked");
        await SeedAsync(table, 1_000);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, ExistingTable(table));

        await using var holder = await postgres.DataSource.OpenConnectionAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\"", holder, transaction))
        {
            await hold.ExecuteScalarAsync();
        }

        var retries = 0;
        var migration = migrator.UpAsync(
            new PgvectorMigrationOptions { LockTimeout = TimeSpan.FromMilliseconds(100) },
            new SynchronousProgress(p => retries += p.Message.Contains("retry", StringComparison.Ordinal) ? 1 : 0));

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 10; i++)
        {
            var start = Stopwatch.GetTimestamp();
            Assert.Equal(1_000L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\""));
            slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, Stopwatch.GetElapsedTime(start).Ticks));
            await Task.Delay(50);
        }

        await transaction.CommitAsync();
        await migration;
        output.WriteLine($"{retries} lock retries; slowest reader {slowest.TotalMilliseconds:F0} ms");
        Assert.True(retries >= 1);
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"a reader waited {slowest}");
        Assert.Equal(0, await WrongPrefixesAsync(table));
    }

    [Fact]
    public void Dry_run_plan_renders_every_step_from_the_sql_files()
    {
        var options = new PgvectorStoreOptions { Table = "documents", CreateTableIfMissing = false };
        using var dataSource = PgvectorDataSource.Create("Host=127.0.0.1");
        var plan = new PgvectorMigrator(dataSource, new EmbeddingLayout(3072, 256), options).PlanUp(vectorSchema: "extensions");

        Assert.Equal(6, plan.Count);
        Assert.StartsWith("ALTER TABLE \"public\".\"documents\" ADD COLUMN IF NOT EXISTS \"embedding_prefix\" \"extensions\".halfvec(256)", plan[0], StringComparison.Ordinal);
        Assert.Contains("set_config('mrl.vector_schema', $3, false)", plan[1], StringComparison.Ordinal);
        Assert.StartsWith("DO $mrl$", plan[2], StringComparison.Ordinal);
        Assert.Contains("SET search_path = pg_catalog, %I, pg_temp", plan[2], StringComparison.Ordinal);
        Assert.StartsWith($"CREATE INDEX CONCURRENTLY IF NOT EXISTS \"{options.PendingIndexName("documents")}\"", plan[3], StringComparison.Ordinal);
        Assert.Contains("WHERE \"embedding_prefix\" IS NULL AND \"extensions\".vector_dims(\"embedding\") = 3072", plan[3], StringComparison.Ordinal);
        Assert.Contains($"SET \"embedding_prefix\" = \"public\".\"{options.PrefixFunctionName}\"(t.\"embedding\")", plan[4], StringComparison.Ordinal);
        Assert.Contains("\"extensions\".vector_dims(t.\"embedding\") = 3072", plan[4], StringComparison.Ordinal);
        Assert.StartsWith($"CREATE INDEX CONCURRENTLY IF NOT EXISTS \"{options.ResolvedIndexName(256)}\"", plan[5], StringComparison.Ordinal);
        Assert.Contains("\"extensions\".halfvec_cosine_ops", plan[5], StringComparison.Ordinal);

        var down = new PgvectorMigrator(dataSource, new EmbeddingLayout(3072, 256), options).PlanDown();
        Assert.Equal([$"DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"{options.ResolvedIndexName(256)}\";"], down.Take(1));
        Assert.Equal(6, down.Count);
    }

    [Fact]
    public void The_index_expressions_in_the_scripts_are_the_ones_the_queries_repeat()
    {
        var layout = new EmbeddingLayout(3072, 256);
        var options = new PgvectorStoreOptions { Table = "documents", PrefixStorage = PrefixStorage.Expression, CreateTableIfMissing = false };
        using var dataSource = PgvectorDataSource.Create("Host=127.0.0.1");
        var table = new PgvectorTable(options, layout, VectorType.Vector, new Version(0, 8, 0), "ext");

        var expressionIndex = new PgvectorMigrator(dataSource, layout, options).PlanUp(vectorSchema: "ext").Single();
        var fullIndex = SqlScript.Load("create_full_halfvec_index").Render(new ScriptVariables()
            .Identifier("schema", "public").Identifier("table", "documents").Identifier("index_name", "i").Identifier("vector_column", "embedding")
            .Identifier("vector_schema", "ext").Raw("full_dims", 3072).Raw("opclass", "halfvec_cosine_ops").Raw("m", 16).Raw("ef_construction", 64)
            .Raw("concurrently", "CONCURRENTLY").Raw("only", "")).Single().Text;

        Assert.Contains("USING hnsw (" + table.PrefixExpression + " ", expressionIndex, StringComparison.Ordinal);
        Assert.Contains("USING hnsw (" + table.FullIndexExpression + " ", fullIndex, StringComparison.Ordinal);
        Assert.StartsWith("(CAST(\"embedding\" AS \"ext\".halfvec(3072)))", table.FullIndexExpression, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PrefixStorage.Column)]
    [InlineData(PrefixStorage.Expression)]
    public void A_scoped_prefix_index_is_partial_with_the_predicate_pass_1_repeats_and_a_name_of_its_own(PrefixStorage mode)
    {
        var layout = new EmbeddingLayout(1536, 256, DistanceMetric.Manhattan);
        PgvectorStoreOptions Scoped(string value) => new()
        {
            Table = "langchain_pg_embedding", KeyColumn = "uuid", PrefixStorage = mode, CreateTableIfMissing = false,
            ScopeColumn = "collection_id", ScopeValue = value,
        };
        var options = Scoped("it's one");
        using var dataSource = PgvectorDataSource.Create("Host=127.0.0.1");
        var table = new PgvectorTable(options, layout, VectorType.Vector, new Version(0, 8, 0), "public", scopeType: "text");

        var index = new PgvectorMigrator(dataSource, layout, options).PlanUp()[^1];

        Assert.StartsWith($"CREATE INDEX CONCURRENTLY IF NOT EXISTS \"{options.ResolvedIndexName(256)}\"", index, StringComparison.Ordinal);
        Assert.Contains("\"public\".halfvec_l1_ops", index, StringComparison.Ordinal);
        Assert.EndsWith($"WHERE \"collection_id\" = {table.ScopeValue};", index, StringComparison.Ordinal);
        Assert.Equal("'it''s one'::pg_catalog.text", table.ScopeValue);
        Assert.NotEqual(options.ResolvedIndexName(256), Scoped("another").ResolvedIndexName(256));
        Assert.NotEqual(options.ResolvedIndexName(256), new PgvectorStoreOptions { Table = "langchain_pg_embedding", PrefixStorage = mode }.ResolvedIndexName(256));
        Assert.Equal(options.TriggerName, Scoped("another").TriggerName);
        Assert.Throws<ArgumentException>(() => new ScriptVariables().Literal("scope_value", "a\\b"));
    }

    [Fact]
    public void Tables_and_columns_whose_names_join_alike_get_different_object_names()
    {
        var first = new PgvectorStoreOptions { Table = "products_image", VectorColumn = "embedding", PrefixColumn = "embedding" + "_prefix" };
        var second = new PgvectorStoreOptions { Table = "products", VectorColumn = "image_embedding", PrefixColumn = "image_embedding_prefix" };
        Assert.Equal("products_image_embedding_prefix", first.Table + "_" + first.PrefixColumn);
        Assert.Equal(first.Table + "_" + first.PrefixColumn, second.Table + "_" + second.PrefixColumn);

        Assert.NotEqual(first.TriggerName, second.TriggerName);
        Assert.NotEqual(first.PrefixFunctionName, second.PrefixFunctionName);
        Assert.NotEqual(first.ResolvedIndexName(16), second.ResolvedIndexName(16));
        Assert.NotEqual(first.FullIndexName, second.FullIndexName);
        Assert.All(new[] { first.TriggerName, first.PrefixFunctionName, first.ResolvedIndexName(16), first.FullIndexName }, n => Assert.True(n.Length <= 63));
    }

    /// <summary>Reports on the calling thread, unlike <see cref="Progress{T}"/>, so that a test sees every report before it asserts.</summary>
    private sealed class SynchronousProgress(Action<MigrationProgress> report) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => report(value);
    }
}
