using System.Globalization;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Pgvector.Tests;

/// <summary>
/// The mistakes a user makes with a migration, on tables this project did not create. Each test checks that the application's
/// writes keep working throughout and that the table ends in the old state or the new one, never a mixture.
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class PgvectorMigrationSafetyTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 64;
    private const int Prefix = 16;
    private static readonly EmbeddingLayout Layout = new(Dimensions, Prefix);

    private static PgvectorStoreOptions Existing(string table) => new() { Table = table, CreateTableIfMissing = false };

    private static string Literal(int dimensions, int seed)
    {
        var random = new Random(seed);
        return "[" + string.Join(',', Enumerable.Range(0, dimensions).Select(_ => (random.NextDouble() - 0.5).ToString("F4", CultureInfo.InvariantCulture))) + "]";
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string> SeedAsync(string prefix, int rows = 2_000, string vectorType = "vector(64)")
    {
        postgres.RequireServer();
        var table = postgres.NewTableName(prefix);
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding {vectorType}, payload jsonb)");
        await ExecuteAsync($"INSERT INTO \"{table}\" SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector FROM generate_series(1, {rows}) AS i");
        return table;
    }

    /// <summary>What the migration has left on the table: prefix column, our trigger, our functions, non-key indexes.</summary>
    private async Task<(long Columns, long Triggers, long Functions, long Indexes)> TracesAsync(string table, PgvectorStoreOptions options) => (
        await ScalarAsync<long>($"SELECT count(*) FROM pg_attribute WHERE attrelid = '\"{table}\"'::regclass AND attname = '{options.ResolvedPrefixColumn}' AND NOT attisdropped"),
        await ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{table}\"'::regclass AND NOT tgisinternal"),
        await ScalarAsync<long>($"SELECT count(*) FROM pg_proc WHERE proname IN ('{options.TriggerName}', '{options.PrefixFunctionName}')"),
        await ScalarAsync<long>($"SELECT count(*) FROM pg_index WHERE indrelid = '\"{table}\"'::regclass AND NOT indisprimary"));

    private Task<long> WrongPrefixesAsync(string table, int prefix = Prefix) => ScalarAsync<long>(
        $"SELECT count(*) FROM \"{table}\" WHERE vector_dims(embedding) = {Dimensions} " +
        $"AND embedding_prefix IS DISTINCT FROM CAST(l2_normalize(subvector(embedding, 1, {prefix})) AS halfvec({prefix}))");

    /// <summary>One write of each kind an application makes: an insert, an update of the vector, a delete.</summary>
    private async Task WriteAsAnApplicationAsync(string table, long key, int dimensions = Dimensions)
    {
        await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES ({key}, '{Literal(dimensions, (int)key)}')");
        await ExecuteAsync($"UPDATE \"{table}\" SET embedding = '{Literal(dimensions, (int)key + 1)}' WHERE id = {key}");
        await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES ({key + 1}, '{Literal(dimensions, (int)key + 2)}')");
        await ExecuteAsync($"DELETE FROM \"{table}\" WHERE id = {key + 1}");
    }

    [SkippableFact]
    public async Task A_typo_in_the_key_column_is_refused_before_anything_changes_and_writes_keep_working()
    {
        var table = await SeedAsync("typo");
        var options = Existing(table);
        options.KeyColumn = "idd";

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync());
        output.WriteLine(error.Message);

        Assert.Contains("no column 'idd'", error.Message, StringComparison.Ordinal);
        Assert.Contains("--key-column", error.Message, StringComparison.Ordinal);
        Assert.Null(error.SqlState);
        Assert.Equal((0L, 0L, 0L, 0L), await TracesAsync(table, options));
        await WriteAsAnApplicationAsync(table, 100_000);
    }

    [SkippableFact]
    public async Task A_rerun_with_another_prefix_size_is_refused_and_the_first_prefix_keeps_being_written()
    {
        var table = await SeedAsync("reprefix");
        var options = Existing(table);
        await new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync();

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(
            () => new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(Dimensions, 32), options).UpAsync());
        output.WriteLine(error.Message);

        Assert.Contains("halfvec(16)", error.Message, StringComparison.Ordinal);
        Assert.Contains("--down", error.Message, StringComparison.Ordinal);
        await WriteAsAnApplicationAsync(table, 100_000);
        Assert.Equal(0L, await WrongPrefixesAsync(table));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NULL"));
    }

    [SkippableFact]
    public async Task A_table_dropped_and_made_again_under_its_name_migrates_with_new_parameters()
    {
        var table = await SeedAsync("remade");
        var options = Existing(table);
        await new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync();

        // The functions of the first migration outlive the table: nothing of the new table uses them.
        await ExecuteAsync($"DROP TABLE \"{table}\"");
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector(64), payload jsonb)");
        await ExecuteAsync($"INSERT INTO \"{table}\" SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector FROM generate_series(1, 500) AS i");

        var wider = new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(Dimensions, 32), options);
        var preflight = await wider.PreflightAsync();
        Assert.Contains(preflight.Notes, n => n.Contains("left from an earlier migration of a table of this name", StringComparison.Ordinal));
        await wider.UpAsync();

        await WriteAsAnApplicationAsync(table, 100_000);
        Assert.Equal(0L, await WrongPrefixesAsync(table, 32));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NULL"));

        // A table that still uses its functions is another matter: the refusal stands.
        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync());
        Assert.Contains("--down", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_rerun_with_the_same_parameters_changes_nothing_and_says_so()
    {
        var table = await SeedAsync("rerun");
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, Existing(table));

        Assert.True((await migrator.UpAsync()).Changed);
        var second = await migrator.UpAsync();

        Assert.False(second.Changed);
        Assert.True((await migrator.PreflightAsync()).UpToDate);
        Assert.False((await migrator.StatusAsync()).WouldChange);
    }

    [SkippableFact]
    public async Task A_rerun_with_other_index_parameters_is_refused_and_the_index_is_kept()
    {
        var table = await SeedAsync("reindex");
        var options = Existing(table);
        await new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync();
        var indexOid = await ScalarAsync<uint>($"SELECT '\"{options.ResolvedIndexName(Prefix)}\"'::regclass::oid");

        var changed = Existing(table);
        changed.HnswM = 24;
        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, Layout, changed).UpAsync());
        output.WriteLine(error.Message);

        Assert.Contains("m = 16", error.Message, StringComparison.Ordinal);
        Assert.Contains("m = 24", error.Message, StringComparison.Ordinal);
        Assert.Equal(indexOid, await ScalarAsync<uint>($"SELECT '\"{options.ResolvedIndexName(Prefix)}\"'::regclass::oid"));
        await WriteAsAnApplicationAsync(table, 100_000);
    }

    [SkippableFact]
    public async Task A_declared_dimension_that_differs_from_the_one_given_is_refused()
    {
        var table = await SeedAsync("dims");
        var options = Existing(table);

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(
            () => new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(32, Prefix), options).UpAsync());

        Assert.Contains("vector(64)", error.Message, StringComparison.Ordinal);
        Assert.Contains("--dims 64", error.Message, StringComparison.Ordinal);
        Assert.Equal((0L, 0L, 0L, 0L), await TracesAsync(table, options));
    }

    [SkippableFact]
    public async Task A_wrong_dimension_on_an_untyped_column_is_refused_and_nothing_is_added()
    {
        var table = await SeedAsync("untyped", vectorType: "vector");
        var options = Existing(table);

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(
            () => new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(128, Prefix), options).UpAsync());
        output.WriteLine(error.Message);

        Assert.Contains("64 (2000 rows)", error.Message, StringComparison.Ordinal);
        Assert.Equal((0L, 0L, 0L, 0L), await TracesAsync(table, options));
        await WriteAsAnApplicationAsync(table, 100_000);
        Assert.Equal(Dimensions, await PgvectorMigrator.ReadFullDimensionsAsync(postgres.DataSource, options));
    }

    [SkippableFact]
    public async Task A_table_of_several_models_like_langchains_takes_rows_of_every_size_after_migration()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("langchain");
        // LangChain's PGVector shape: every collection in one table, an untyped vector column, json metadata.
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), collection_id uuid, embedding vector, document varchar, cmetadata json)");
        await ExecuteAsync($"INSERT INTO \"{table}\" (embedding, cmetadata) SELECT ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector, '{{}}' FROM generate_series(1, 1500) AS i");
        await ExecuteAsync($"INSERT INTO \"{table}\" (embedding) SELECT ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 8))::vector FROM generate_series(1, 300) AS i");
        await ExecuteAsync($"INSERT INTO \"{table}\" (embedding) SELECT ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 256))::vector FROM generate_series(1, 200) AS i");
        var options = Existing(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);

        var dimensionError = await Assert.ThrowsAsync<PgvectorMigrationException>(() => PgvectorMigrator.ReadFullDimensionsAsync(postgres.DataSource, options));
        Assert.Contains("several sizes", dimensionError.Message, StringComparison.Ordinal);
        var notes = (await migrator.PreflightAsync()).Notes;
        Assert.Contains(notes, n => n.Contains("several sizes", StringComparison.Ordinal));
        await migrator.UpAsync();

        foreach (var size in new[] { 8, 64, 256, 1 })
        {
            await ExecuteAsync($"INSERT INTO \"{table}\" (embedding) VALUES ('{Literal(size, size)}')");
        }

        await ExecuteAsync($"INSERT INTO \"{table}\" (embedding) VALUES (NULL)");
        await ExecuteAsync($"UPDATE \"{table}\" SET embedding = '{Literal(8, 3)}' WHERE id = (SELECT id FROM \"{table}\" WHERE vector_dims(embedding) = 64 LIMIT 1)");

        Assert.Equal(0L, await WrongPrefixesAsync(table));
        Assert.Equal(1_500L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NOT NULL"));
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NOT NULL AND vector_dims(embedding) <> {Dimensions}"));
        Assert.Equal(0L, (await migrator.StatusAsync()).RowsWithoutPrefix);
    }

    [SkippableFact]
    public async Task Rows_whose_prefix_cannot_be_computed_keep_a_null_prefix_instead_of_failing_the_write()
    {
        var table = await SeedAsync("zero", rows: 10);
        await new PgvectorMigrator(postgres.DataSource, Layout, Existing(table)).UpAsync();

        var zeroPrefix = "[" + string.Join(',', Enumerable.Range(0, Dimensions).Select(i => i < Prefix ? "0" : "1")) + "]";
        await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES (50, '{zeroPrefix}'), (51, NULL)");

        Assert.Equal(2L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NULL AND id IN (50, 51)"));
        // Row 50 is the one row of the layout's size whose prefix is not the normalized head of its vector: it has none.
        Assert.Equal(1L, await WrongPrefixesAsync(table));
    }

    [SkippableFact]
    public async Task Down_with_a_view_on_the_prefix_column_is_refused_and_changes_nothing()
    {
        var table = await SeedAsync("view");
        var options = Existing(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);
        await migrator.UpAsync();
        var view = table + "_v";
        await ExecuteAsync($"CREATE VIEW \"{view}\" AS SELECT id, embedding_prefix FROM \"{table}\"");

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(() => migrator.DownAsync());
        output.WriteLine(error.Message);

        Assert.Contains(view, error.Message, StringComparison.Ordinal);
        Assert.Equal((1L, 1L, 2L, 2L), await TracesAsync(table, options));
        await WriteAsAnApplicationAsync(table, 100_000);
        await ExecuteAsync($"DROP VIEW \"{view}\"");
        Assert.True((await migrator.DownAsync()).Changed);
        Assert.Equal((0L, 0L, 0L, 0L), await TracesAsync(table, options));
        Assert.False((await migrator.DownAsync()).Changed);
    }

    [SkippableTheory]
    [InlineData("hash")]
    [InlineData("range")]
    public async Task Partitioned_tables_get_an_index_per_partition_and_a_partition_added_later_gets_one_too(string kind)
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("part_" + kind);
        var (scheme, partitions) = kind == "hash"
            ? ("HASH (id)", Enumerable.Range(0, 3).Select(i => $"FOR VALUES WITH (MODULUS 4, REMAINDER {i})").ToArray())
            : ("RANGE (id)", new[] { "FOR VALUES FROM (0) TO (1000)", "FOR VALUES FROM (1000) TO (2000)", "FOR VALUES FROM (2000) TO (3000)" });
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb) PARTITION BY {scheme}");
        for (var i = 0; i < partitions.Length; i++)
        {
            await ExecuteAsync($"CREATE TABLE \"{table}_{i}\" PARTITION OF \"{table}\" {partitions[i]}");
        }

        var seedUpTo = kind == "hash" ? 3_000 : 2_999;
        if (kind == "hash")
        {
            await ExecuteAsync($"CREATE TABLE \"{table}_3\" PARTITION OF \"{table}\" FOR VALUES WITH (MODULUS 4, REMAINDER 3)");
        }

        await ExecuteAsync($"INSERT INTO \"{table}\" SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector FROM generate_series(1, {seedUpTo}) AS i");
        var options = Existing(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);

        var plan = await migrator.PreflightAsync();
        Assert.Empty(plan.Problems);
        Assert.Contains(plan.Notes, n => n.Contains("partitioned", StringComparison.Ordinal));
        Assert.Contains(plan.Statements, s => s.Contains("ON ONLY", StringComparison.Ordinal));
        Assert.Contains(plan.Statements, s => s.StartsWith("ALTER INDEX", StringComparison.Ordinal));

        await migrator.UpAsync();
        var parentIndex = options.ResolvedIndexName(Prefix);
        Assert.True(await ScalarAsync<bool>($"SELECT indisvalid FROM pg_index WHERE indexrelid = '\"{parentIndex}\"'::regclass"));
        Assert.Equal(0L, await WrongPrefixesAsync(table));

        if (kind == "range")
        {
            await ExecuteAsync($"CREATE TABLE \"{table}_new\" PARTITION OF \"{table}\" FOR VALUES FROM (3000) TO (4000)");
        }

        await WriteAsAnApplicationAsync(table, 3_500);
        Assert.Equal(0L, await WrongPrefixesAsync(table));
        var leaves = await ScalarAsync<long>($"SELECT count(*) FROM pg_partition_tree('\"{table}\"') WHERE isleaf");
        var leafIndexes = await ScalarAsync<long>($"SELECT count(*) FROM pg_partition_tree('\"{parentIndex}\"') t JOIN pg_index i ON i.indexrelid = t.relid WHERE t.isleaf AND i.indisvalid");
        Assert.Equal(leaves, leafIndexes);

        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options);
        var record = await store.GetAsync(42);
        Assert.Equal(42L, (await store.SearchAsync(record!.Vector, new SearchOptions { K = 3 })).Hits[0].Key);

        Assert.False((await migrator.UpAsync()).Changed);
        await migrator.DownAsync();
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM pg_indexes WHERE tablename LIKE '{table}%' AND indexname NOT LIKE '%pkey'"));
        await WriteAsAnApplicationAsync(table, 3_600);
    }

    [SkippableFact]
    public async Task A_failure_after_any_step_leaves_writes_working_and_a_rerun_completes()
    {
        foreach (var failAfter in new[] { "add-column", "trigger", "backfill", "index" })
        {
            var table = await SeedAsync("fail_" + failAfter.Replace("-", "_", StringComparison.Ordinal), rows: 6_000);
            var options = Existing(table);
            var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);

            using var stop = new CancellationTokenSource();
            var writeErrors = new List<string>();
            var writes = 0;
            var writer = Task.Run(async () =>
            {
                for (var key = 1_000_000L; !stop.IsCancellationRequested; key += 2)
                {
                    try
                    {
                        await WriteAsAnApplicationAsync(table, key);
                        writes++;
                    }
                    catch (PostgresException e)
                    {
                        writeErrors.Add(e.Message);
                    }
                }
            });

            var injected = await Assert.ThrowsAsync<InvalidOperationException>(() => migrator.UpAsync(
                new PgvectorMigrationOptions { BatchSize = 1_000 },
                new InlineProgress(p =>
                {
                    if (p.Step == failAfter && (p.Step != "backfill" || p.Done > 0))
                    {
                        throw new InvalidOperationException("injected failure after " + p.Step);
                    }
                })));
            Assert.Contains(failAfter, injected.Message, StringComparison.Ordinal);
            await Task.Delay(200);
            await WriteAsAnApplicationAsync(table, 900_000);

            await migrator.UpAsync();
            await stop.CancelAsync();
            await writer;

            output.WriteLine($"failed after {failAfter}: {writes} application write rounds, {writeErrors.Count} errors");
            Assert.Empty(writeErrors);
            Assert.True(writes > 0);
            Assert.Equal(0L, await WrongPrefixesAsync(table));
            Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM \"{table}\" WHERE embedding_prefix IS NULL"));
            Assert.False((await migrator.StatusAsync()).WouldChange);
        }
    }

    [SkippableFact]
    public async Task Two_tables_whose_names_join_alike_keep_their_own_trigger_and_index()
    {
        postgres.RequireServer();
        var stem = postgres.NewTableName("prod");
        var (first, second) = (stem + "_image", stem);
        await ExecuteAsync($"CREATE TABLE \"{first}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}))");
        await ExecuteAsync($"CREATE TABLE \"{second}\" (id bigint PRIMARY KEY, image_embedding vector({Dimensions}))");
        var firstOptions = Existing(first);
        var secondOptions = new PgvectorStoreOptions { Table = second, VectorColumn = "image_embedding", CreateTableIfMissing = false };

        await new PgvectorMigrator(postgres.DataSource, Layout, firstOptions).UpAsync();
        await new PgvectorMigrator(postgres.DataSource, Layout, secondOptions).UpAsync();
        await new PgvectorMigrator(postgres.DataSource, Layout, secondOptions).DownAsync();

        await WriteAsAnApplicationAsync(first, 1);
        Assert.Equal((1L, 1L, 2L, 2L), await TracesAsync(first, firstOptions));
        Assert.Equal(0L, await WrongPrefixesAsync(first));
    }

    [SkippableFact]
    public async Task An_index_name_taken_on_another_table_is_refused_rather_than_reported_as_built()
    {
        var table = await SeedAsync("squat", rows: 100);
        var options = Existing(table);
        var decoy = table + "_decoy";
        await ExecuteAsync($"CREATE TABLE \"{decoy}\" (x int)");
        await ExecuteAsync($"CREATE INDEX \"{options.ResolvedIndexName(Prefix)}\" ON \"{decoy}\" (x)");

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync());
        output.WriteLine(error.Message);

        Assert.Contains(decoy, error.Message, StringComparison.Ordinal);
        Assert.Equal((0L, 0L, 0L, 0L), await TracesAsync(table, options));
        var downError = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, Layout, options).DownAsync());
        Assert.Contains(decoy, downError.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM pg_index WHERE indrelid = '\"{decoy}\"'::regclass"));
    }

    [SkippableFact]
    public async Task A_function_of_the_same_name_made_by_someone_else_is_never_replaced()
    {
        var table = await SeedAsync("fn", rows: 100);
        var options = Existing(table);
        await ExecuteAsync($"CREATE FUNCTION \"{options.TriggerName}\"() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'");

        var error = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync());

        Assert.Contains("was not created by a migration", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{table}\"'::regclass AND NOT tgisinternal"));
    }

    [SkippableFact]
    public async Task The_dry_run_checks_the_real_table_read_only_and_changes_nothing()
    {
        var table = await SeedAsync("dry");
        var options = Existing(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);

        var plan = await migrator.PreflightAsync();
        var wrong = await new PgvectorMigrator(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table.ToUpperInvariant(), CreateTableIfMissing = false }).PreflightAsync();

        Assert.Empty(plan.Problems);
        Assert.False(plan.UpToDate);
        Assert.Equal(6, plan.Statements.Count);
        Assert.Contains(wrong.Problems, p => p.Contains("Did you mean", StringComparison.Ordinal) && p.Contains(table, StringComparison.Ordinal));
        Assert.Empty(wrong.Statements);
        Assert.Equal((0L, 0L, 0L, 0L), await TracesAsync(table, options));
    }

    [SkippableFact]
    public async Task Status_counts_rows_still_without_a_prefix()
    {
        var table = await SeedAsync("status");
        var options = Existing(table);
        var migrator = new PgvectorMigrator(postgres.DataSource, Layout, options);
        var before = await migrator.StatusAsync();
        await migrator.AddPrefixWithoutIndexAsync();
        await ExecuteAsync($"UPDATE \"{table}\" SET embedding_prefix = NULL WHERE id <= 10");

        var during = await migrator.StatusAsync();

        Assert.Null(before.PrefixColumn);
        Assert.True(before.WouldChange);
        Assert.Equal("embedding_prefix halfvec(16)", during.PrefixColumn);
        Assert.True(during.TriggerInstalled);
        Assert.Null(during.IndexValid);
        Assert.Equal(10L, during.RowsWithoutPrefix);
        Assert.Equal(2_000L, during.Rows);
        Assert.True(during.WouldChange);
    }

    [SkippableFact]
    public async Task Rows_the_backfill_has_not_reached_are_still_found_by_searches_through_two_index_scans()
    {
        var table = await SeedAsync("waiting", rows: 3_000);
        var options = Existing(table);
        await new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync();
        // As the backfill leaves them before it reaches them: 30 rows of the layout's size without a prefix.
        await ExecuteAsync($"UPDATE \"{table}\" SET embedding_prefix = NULL WHERE id % 100 = 7");
        await ExecuteAsync($"ANALYZE \"{table}\"");

        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options);
        foreach (var key in new long[] { 7, 1_507, 2_907 })
        {
            var record = await store.GetAsync(key);
            foreach (var rerank in new[] { SearchStrategy.TwoPass, SearchStrategy.TwoPassInDatabase, SearchStrategy.PrefixOnly })
            {
                var hits = (await store.SearchAsync(record!.Vector, new SearchOptions { K = 5, Strategy = rerank })).Hits;
                Assert.Equal(key, hits[0].Key);
                Assert.Equal(5, hits.Count);
            }
        }

        var sql = new PgvectorTable(options, Layout, VectorType.Vector, new Version(0, 8, 0), "public") { ScansRowsWithoutPrefix = true }.Pass1(null, true, []);
        await using var explain = postgres.DataSource.CreateCommand("EXPLAIN " + sql);
        explain.Parameters.Add(new NpgsqlParameter { Value = new global::Pgvector.HalfVector(Layout.ToPrefix((await store.GetAsync(7))!.Vector.ToArray()).Select(x => (Half)x).ToArray()), DataTypeName = "public.halfvec" });
        explain.Parameters.Add(new NpgsqlParameter { Value = 40 });
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        output.WriteLine(string.Join('\n', plan));
        Assert.Contains(plan, line => line.Contains("Index Scan using " + options.ResolvedIndexName(Prefix), StringComparison.Ordinal));
        Assert.Contains(plan, line => line.Contains(options.PendingIndexName(table), StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.Contains("Seq Scan", StringComparison.Ordinal));
    }

    private sealed class InlineProgress(Action<MigrationProgress> report) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => report(value);
    }
}
