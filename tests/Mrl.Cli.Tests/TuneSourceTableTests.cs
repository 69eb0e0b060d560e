using Mrl.Adapters;
using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

/// <summary><c>mrl tune --source-table</c> on a table another tool made: it is read, never changed.</summary>
public sealed class TuneSourceTableTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-tune-source-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<string> ScalarAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        return (await command.ExecuteScalarAsync())?.ToString() ?? "";
    }

    // The table as the catalog describes it (columns, constraints, indexes, triggers, storage options, comment) and a checksum of its rows.
    private async Task<string> DescribeAsync(string table) => string.Join("\n",
        await ScalarAsync($"SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull || ' ' || attstorage::text, ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 AND NOT attisdropped"),
        await ScalarAsync($"SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname) FROM pg_constraint WHERE conrelid = '{table}'::regclass"),
        await ScalarAsync($"SELECT string_agg(pg_get_indexdef(indexrelid) || ' valid=' || indisvalid, ', ' ORDER BY indexrelid::regclass::text) FROM pg_index WHERE indrelid = '{table}'::regclass"),
        await ScalarAsync($"SELECT string_agg(pg_get_triggerdef(oid), ', ' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = '{table}'::regclass"),
        await ScalarAsync($"SELECT coalesce(array_to_string(reloptions, ','), '') || ' ' || coalesce(obj_description(oid, 'pg_class'), '') FROM pg_class WHERE oid = '{table}'::regclass"),
        await ScalarAsync($"SELECT count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} AS t"));

    [SkippableFact]
    public async Task Tune_with_a_source_table_writes_a_profile_and_leaves_the_table_as_it_was()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("app_documents");
        await using (var create = postgres.DataSource.CreateCommand(
            $"CREATE TABLE {table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), content text NOT NULL, metadata jsonb, embedding vector(64), updated_at timestamptz NOT NULL DEFAULT now()); " +
            $"CREATE INDEX {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops); " +
            $"CREATE FUNCTION {table}_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$; " +
            $"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_touch(); " +
            $"COMMENT ON TABLE {table} IS 'made by another tool'; " +
            $"INSERT INTO {table} (content, metadata, embedding) SELECT 'doc ' || i, jsonb_build_object('n', i), " +
            "ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 64))::vector FROM generate_series(1, 1500) AS i; " +
            $"INSERT INTO {table} (content) VALUES ('a row without a vector')"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var before = await DescribeAsync(table);
        var path = Path.Combine(_directory, "profile.json");
        var (exitCode, output) = await CliRunner.RunAsync(
            "tune", "--source-table", table, "--connection", postgres.ConnectionString, "--backend", "postgres", "--queries", "40",
            "--prefix-dims", "16,32", "--oversampling", "2,8", "--ef-search", "40,160", "--target-recall", "0.9", "--truth-cache", "none", "--out", path);

        Assert.True(exitCode == 0, output);
        Assert.Equal(before, await DescribeAsync(table));
        Assert.Contains("1,460 x 64, 40 queries held out", output, StringComparison.Ordinal);
        Assert.Contains($"{table} was only read.", output, StringComparison.Ordinal);
        var profile = SearchProfile.Load(path);
        Assert.Equal(("postgres", 64, 0.9), (profile.Backend, profile.FullDimensions, profile.TargetRecall));
        Assert.True(profile.MeasuredRecall >= 0.9, output);
        Assert.Equal("0", await ScalarAsync("SELECT count(*) FROM pg_class WHERE relname LIKE 'mrl_bench%'"));
    }

    [Fact]
    public async Task A_scratch_table_that_is_the_source_table_is_refused_before_anything_is_read()
    {
        var (exitCode, output) = await CliRunner.RunAsync(
            "tune", "--source-table", "public.documents", "--table", "documents", "--connection", "Host=127.0.0.1;Port=1;Username=nobody", "--backend", "postgres");

        Assert.Equal(1, exitCode);
        Assert.Contains("error: --table names the scratch table that is dropped and re-created; it cannot be the --source-table.", output, StringComparison.Ordinal);
    }
}
