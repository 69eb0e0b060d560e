using System.Globalization;
using System.Numerics.Tensors;
using Mrl.Adapters.Testing;
using Mrl.Bench.Synthetic;
using Npgsql;

namespace Mrl.Adapters.Pgvector.Tests;

/// <summary>
/// A drift refit of a projected key: the table's vectors move to another distribution, a new version is fitted on them, built
/// beside the key in use and switched to.
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class PgvectorRefitTests(PostgresFixture postgres)
{
    private const int Dimensions = 64;
    private const int KeyDimensions = 12;
    private const int Rows = 1_500;

    // Two rotated corpora: a key fitted on the first keeps little of the second, whose information lies in other directions.
    private static readonly float[] Before = Corpus(3);
    private static readonly float[] After = Corpus(9);

    [SkippableFact]
    public async Task A_refit_after_drift_switches_to_a_new_version_with_the_index_parameters_in_use_and_finds_at_least_as_many_neighbours()
    {
        var (table, options) = await MigratedTableAsync("refit");
        var first = (await PgvectorMigrator.ReadProjectionAsync(postgres.DataSource, options))!;
        await DriftAsync(table);
        var recallBefore = await TwoPassRecallAsync(new EmbeddingLayout(first, DistanceMetric.Cosine), options);

        // The options carry the default m and ef_construction: the new index takes those of the index in use.
        var plain = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false };
        var result = await PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, plain);

        Assert.Equal(PgvectorRefitAction.Refit, result.Action);
        Assert.Equal(1, result.CurrentVersion);
        Assert.Equal(2, result.Target!.Version);
        Assert.True(result.KeptByRefit > result.KeptByCurrent + 0.05, $"kept {result.KeptByCurrent:F3} before, {result.KeptByRefit:F3} by the new fit");
        var layout = await PgvectorMigrator.ReadLayoutAsync(postgres.DataSource, plain);
        Assert.Equal(result.Target, layout.Projection);
        Assert.Equal(0, await WrongKeysAsync(table, layout, After));
        Assert.Equal(new[] { 2 }, await VersionsAsync(plain));
        Assert.Equal(new[] { "embedding", "embedding_prefix", "id", "payload" }, await ColumnsAsync(table));
        Assert.Equal(new[] { plain.PendingIndexName(table), plain.ResolvedIndexName(KeyDimensions), table + "_pkey" }.Order(StringComparer.Ordinal), await IndexesAsync(table));
        Assert.Equal("m=8,ef_construction=32", await ScalarAsync<string>($"SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = '{plain.ResolvedIndexName(KeyDimensions)}'"));
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{table}\"'::regclass AND NOT tgisinternal"));
        Assert.Equal(2L, await ScalarAsync<long>($"SELECT count(*) FROM pg_proc WHERE proname LIKE '{table}%'"));

        var recallAfter = await TwoPassRecallAsync(layout, plain);
        Assert.True(recallAfter >= recallBefore && recallAfter >= 0.9, $"two-pass recall@10 {recallBefore:F3} with version 1, {recallAfter:F3} with version 2");

        await using (var stale = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(first, DistanceMetric.Cosine), plain))
        {
            var refused = await Assert.ThrowsAsync<SchemaMismatchException>(() => stale.SearchAsync(After.AsMemory(0, Dimensions), new SearchOptions { K = 1 }));
            Assert.Contains("version 1, but the keys", refused.Message, StringComparison.Ordinal);
            Assert.Contains("version 2", refused.Message, StringComparison.Ordinal);
        }

        var again = await PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, plain);
        Assert.Equal(PgvectorRefitAction.None, again.Action);
        Assert.False(again.WouldChange);
        Assert.Contains(again.Notes, n => n.StartsWith("Nothing to refit", StringComparison.Ordinal));
        Assert.Equal(new[] { 2 }, await VersionsAsync(plain));
    }

    [SkippableFact]
    public async Task Rows_written_between_the_backfill_and_the_switch_get_the_new_key()
    {
        var (table, options) = await MigratedTableAsync("refitw");
        await DriftAsync(table);
        var written = false;
        var progress = new SynchronousProgress(p =>
        {
            // The refit's own index is built: the backfill is over, the switch comes next.
            if (p.Step == "index" && !written)
            {
                written = true;
                using var insert = postgres.DataSource.CreateCommand(
                    $"INSERT INTO \"{table}\" (id, embedding) VALUES {string.Join(',', Enumerable.Range(Rows, 20).Select(i => $"({i}, '{Literal(After, i - Rows)}')"))}");
                insert.ExecuteNonQuery();
                using var update = postgres.DataSource.CreateCommand($"UPDATE \"{table}\" SET embedding = '{Literal(After, 1)}' WHERE id = 0");
                update.ExecuteNonQuery();
            }
        });

        var result = await PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, options, progress: progress);

        Assert.True(written);
        Assert.Equal(PgvectorRefitAction.Refit, result.Action);
        var layout = new EmbeddingLayout(result.Target!, DistanceMetric.Cosine);
        var expected = new List<(long Id, float[] Vector)>(Enumerable.Range(0, 20).Select(i => ((long)(Rows + i), After.AsSpan(i * Dimensions, Dimensions).ToArray())))
        {
            (0, After.AsSpan(Dimensions, Dimensions).ToArray()),
        };
        foreach (var (id, vector) in expected)
        {
            var stored = await ScalarAsync<float[]>($"SELECT CAST(embedding_prefix AS real[]) FROM \"{table}\" WHERE id = {id}");
            Assert.True(TensorPrimitives.Distance(stored, layout.ToPrefix(vector)) < 5e-3f, $"row {id} has not the key of version 2");
        }

        Assert.Equal(0, await WrongKeysAsync(table, layout, After));
    }

    [SkippableFact]
    public async Task Writes_throughout_a_refit_never_fail_and_every_row_ends_with_the_key_of_its_vector()
    {
        var (table, options) = await MigratedTableAsync("refitc");
        await DriftAsync(table);
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            var random = new Random(5);
            for (var id = 10_000L; !stop.IsCancellationRequested; id++)
            {
                await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES ({id}, '{Literal(After, random.Next(Rows))}')");
                await ExecuteAsync($"UPDATE \"{table}\" SET embedding = '{Literal(After, random.Next(Rows))}' WHERE id = {random.Next(Rows)}");
                writes += 2;
            }
        });

        var result = await PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, options, migration: new PgvectorMigrationOptions { BatchSize = 100 });
        await stop.CancelAsync();
        await writer;

        Assert.Equal(PgvectorRefitAction.Refit, result.Action);
        Assert.True(writes > 0);
        var layout = new EmbeddingLayout(result.Target!, DistanceMetric.Cosine);
        await using var command = postgres.DataSource.CreateCommand($"SELECT id, CAST(embedding AS real[]), CAST(embedding_prefix AS real[]) FROM \"{table}\"");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            var stored = reader.IsDBNull(2) ? null : reader.GetFieldValue<float[]>(2);
            Assert.True(stored is not null && TensorPrimitives.Distance(stored, layout.ToPrefix(reader.GetFieldValue<float[]>(1))) < 5e-3f,
                $"row {reader.GetInt64(0)} has not the key of version 2 of its vector");
        }

        Assert.True(rows > Rows, $"{rows} rows");
    }

    [SkippableTheory]
    [InlineData("add-column")]
    [InlineData("backfill")]
    [InlineData("pending-index")]
    [InlineData("index")]
    [InlineData("switch")]
    public async Task A_refit_interrupted_after_a_step_is_finished_by_a_rerun_without_a_new_fit(string step)
    {
        var (table, options) = await MigratedTableAsync("refiti");
        await DriftAsync(table);
        using var stop = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Step == step && (step != "backfill" || p.Done > 0))
            {
                stop.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => PgvectorMigrator.RefitProjectionAsync(
            postgres.DataSource, options, migration: new PgvectorMigrationOptions { BatchSize = 200 }, progress: progress, cancellationToken: stop.Token));
        Assert.Equal(step == "switch" ? 2 : 1, (await PgvectorMigrator.ReadProjectionAsync(postgres.DataSource, options))!.Version);

        var rerun = await PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, options);

        Assert.Equal(step == "switch" ? PgvectorRefitAction.FinishCleanup : PgvectorRefitAction.Resume, rerun.Action);
        Assert.Equal(2, rerun.Target!.Version);
        Assert.Null(rerun.KeptByRefit);
        var layout = await PgvectorMigrator.ReadLayoutAsync(postgres.DataSource, options);
        Assert.Equal(2, layout.Projection!.Version);
        Assert.Equal(new[] { 2 }, await VersionsAsync(options));
        Assert.Equal(new[] { "embedding", "embedding_prefix", "id", "payload" }, await ColumnsAsync(table));
        Assert.Equal(new[] { options.PendingIndexName(table), options.ResolvedIndexName(KeyDimensions), table + "_pkey" }.Order(StringComparer.Ordinal), await IndexesAsync(table));
        Assert.Equal(0, await WrongKeysAsync(table, layout, After));
    }

    [SkippableFact]
    public async Task A_dry_run_plans_the_refit_and_changes_nothing()
    {
        var (table, options) = await MigratedTableAsync("refitd");

        var undrifted = await PgvectorMigrator.PlanRefitAsync(postgres.DataSource, options);
        Assert.Equal(PgvectorRefitAction.None, undrifted.Action);
        Assert.Empty(undrifted.Statements);

        await DriftAsync(table);
        var plan = await PgvectorMigrator.PlanRefitAsync(postgres.DataSource, options);

        Assert.Equal(PgvectorRefitAction.Refit, plan.Action);
        Assert.Equal(2, plan.Target!.Version);
        var script = string.Join('\n', plan.Statements);
        foreach (var expected in new[] { "INSERT INTO", "ADD COLUMN IF NOT EXISTS \"embedding_prefix_v2\"", "CREATE INDEX CONCURRENTLY", "BEGIN;", "RENAME COLUMN \"embedding_prefix\" TO \"embedding_prefix_v1\"", "COMMIT;", "DROP COLUMN IF EXISTS \"embedding_prefix_v1\"", "DELETE FROM" })
        {
            Assert.Contains(expected, script, StringComparison.Ordinal);
        }

        Assert.Equal(new[] { 1 }, await VersionsAsync(options));
        Assert.Equal(new[] { "embedding", "embedding_prefix", "id", "payload" }, await ColumnsAsync(table));
        Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{table}\"'::regclass AND NOT tgisinternal"));
        Assert.Equal(1, (await PgvectorMigrator.ReadProjectionAsync(postgres.DataSource, options))!.Version);
    }

    [SkippableFact]
    public async Task A_refit_refuses_a_table_without_a_projected_key_another_key_size_or_another_metric_and_changes_nothing()
    {
        postgres.RequireServer();
        var bare = postgres.NewTableName("refitn");
        await ExecuteAsync($"CREATE TABLE \"{bare}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
        await InsertAsync(bare, Before, 0, 300);
        var bareOptions = new PgvectorStoreOptions { Table = bare, CreateTableIfMissing = false };
        var none = await Assert.ThrowsAsync<PgvectorMigrationException>(() => PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, bareOptions));
        Assert.Contains("no projected key to refit", none.Message, StringComparison.Ordinal);

        await new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(Dimensions, KeyDimensions), bareOptions).UpAsync();
        var truncated = await Assert.ThrowsAsync<PgvectorMigrationException>(() => PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, bareOptions));
        Assert.Contains("is a truncated prefix, not a projection", truncated.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { "embedding", "embedding_prefix", "id", "payload" }, await ColumnsAsync(bare));

        var (table, options) = await MigratedTableAsync("refitr");
        await DriftAsync(table);
        var resized = await Assert.ThrowsAsync<PgvectorMigrationException>(() =>
            PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, options, new PgvectorRefitOptions { PrefixDimensions = 16 }));
        Assert.Contains("has 12 values (projection version 1); this refit asks for 16", resized.Message, StringComparison.Ordinal);
        var otherMetric = await Assert.ThrowsAsync<PgvectorMigrationException>(() =>
            PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, options, new PgvectorRefitOptions { Metric = DistanceMetric.DotProduct }));
        Assert.Contains("is built with halfvec_cosine_ops; a refit for DotProduct would build halfvec_ip_ops", otherMetric.Message, StringComparison.Ordinal);
        Assert.Equal(new[] { 1 }, await VersionsAsync(options));
        Assert.Equal(new[] { "embedding", "embedding_prefix", "id", "payload" }, await ColumnsAsync(table));

        var asked = await PgvectorMigrator.RefitProjectionAsync(postgres.DataSource, options, new PgvectorRefitOptions { PrefixDimensions = 16, ChangePrefixDimensions = true });
        Assert.Equal(PgvectorRefitAction.Refit, asked.Action);
        var layout = await PgvectorMigrator.ReadLayoutAsync(postgres.DataSource, options);
        Assert.Equal((16, 2), (layout.PrefixDimensions, layout.Projection!.Version));
        Assert.Equal(16, await ScalarAsync<int>($"SELECT atttypmod FROM pg_attribute WHERE attrelid = '\"{table}\"'::regclass AND attname = 'embedding_prefix'"));
        Assert.Equal(0, await WrongKeysAsync(table, layout, After));
    }

    private static float[] Corpus(int seed) =>
        new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = seed }).Generate(Rows);

    /// <summary>A table of <see cref="Before"/>'s vectors with a projected key fitted on them, its index built with m = 8, ef_construction = 32.</summary>
    private async Task<(string Table, PgvectorStoreOptions Options)> MigratedTableAsync(string prefix)
    {
        postgres.RequireServer();
        var table = postgres.NewTableName(prefix);
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
        await InsertAsync(table, Before, 0, Rows);
        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false, HnswM = 8, HnswEfConstruction = 32 };
        var projection = await PgvectorMigrator.FitProjectionAsync(postgres.DataSource, options, KeyDimensions, DistanceMetric.Cosine);
        await new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(projection, DistanceMetric.Cosine), options).UpAsync();
        return (table, new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false });
    }

    /// <summary>Every row's vector moves to <see cref="After"/>'s; the trigger recomputes the key in use.</summary>
    private async Task DriftAsync(string table)
    {
        for (var first = 0; first < Rows; first += 500)
        {
            var values = string.Join(',', Enumerable.Range(first, 500).Select(i => $"({i}, '{Literal(After, i)}')"));
            await ExecuteAsync($"UPDATE \"{table}\" AS t SET embedding = CAST(v.e AS vector) FROM (VALUES {values}) AS v(id, e) WHERE t.id = v.id");
        }
    }

    /// <summary>The share of the exact top 10 that two-pass search at oversampling 4 finds, over 20 queries of <see cref="After"/>.</summary>
    private async Task<double> TwoPassRecallAsync(EmbeddingLayout layout, PgvectorStoreOptions options)
    {
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options);
        var found = 0;
        for (var q = 0; q < 20; q++)
        {
            var query = After.AsMemory(q * 73 * Dimensions, Dimensions);
            var twoPass = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 4, EfSearch = 200 });
            var exact = await store.SearchAsync(query, new SearchOptions { K = 10, Strategy = SearchStrategy.FullDimension });
            found += twoPass.Hits.Select(h => h.Key).Intersect(exact.Hits.Select(h => h.Key)).Count();
        }

        return found / 200.0;
    }

    /// <summary>Rows below <see cref="Rows"/> whose stored key is not the layout's key of their vector in <paramref name="data"/>.</summary>
    private async Task<int> WrongKeysAsync(string table, EmbeddingLayout layout, float[] data)
    {
        var wrong = 0;
        await using var command = postgres.DataSource.CreateCommand($"SELECT id, CAST(embedding_prefix AS real[]) FROM \"{table}\" WHERE id BETWEEN 1 AND {Rows - 1} ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            rows++;
            var id = (int)reader.GetInt64(0);
            var stored = reader.IsDBNull(1) ? null : reader.GetFieldValue<float[]>(1);
            if (stored is null || stored.Length != layout.PrefixDimensions
                || TensorPrimitives.Distance(stored, layout.ToPrefix(data.AsSpan(id * Dimensions, Dimensions))) >= 5e-3f)
            {
                wrong++;
            }
        }

        return rows == Rows - 1 ? wrong : -1;
    }

    private async Task<int[]> VersionsAsync(PgvectorStoreOptions options)
    {
        await using var command = postgres.DataSource.CreateCommand($"SELECT DISTINCT version FROM \"{options.ProjectionTableName}\" ORDER BY 1");
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }

        return [.. versions];
    }

    private Task<string[]> ColumnsAsync(string table) =>
        ScalarAsync<string[]>($"SELECT array_agg(attname::text ORDER BY attname::text COLLATE \"C\") FROM pg_attribute WHERE attrelid = '\"{table}\"'::regclass AND attnum > 0 AND NOT attisdropped");

    private Task<string[]> IndexesAsync(string table) =>
        ScalarAsync<string[]>($"SELECT array_agg(c.relname::text ORDER BY c.relname::text COLLATE \"C\") FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '\"{table}\"'::regclass");

    private static string Literal(float[] data, int row) =>
        "[" + string.Join(',', data.AsSpan(row * Dimensions, Dimensions).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    private async Task InsertAsync(string table, float[] data, int first, int count)
    {
        for (var start = first; start < first + count; start += 500)
        {
            var values = Enumerable.Range(start, Math.Min(500, first + count - start)).Select(i => $"({i}, '{Literal(data, i)}')");
            await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES {string.Join(',', values)}");
        }
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

    private sealed class SynchronousProgress(Action<MigrationProgress> report) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => report(value);
    }
}
