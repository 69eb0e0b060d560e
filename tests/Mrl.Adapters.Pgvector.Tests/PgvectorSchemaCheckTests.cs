using Mrl.Adapters.Testing;
using Xunit.Abstractions;

namespace Mrl.Adapters.Pgvector.Tests;

/// <summary>What the store checks before it trusts a table, and what it keeps of the options it was given.</summary>
[Collection(PostgresGroup.Name)]
public sealed class PgvectorSchemaCheckTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly EmbeddingLayout Layout = new(32, 8);

    private async Task ExecuteAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private static VectorRecord<long>[] Records(int count) =>
        Enumerable.Range(1, count).Select(i => new VectorRecord<long>(i, Enumerable.Range(0, 32).Select(d => (float)Math.Sin(i * 31 + d)).ToArray())).ToArray();

    [SkippableFact]
    public async Task Options_changed_after_construction_do_not_reach_the_store()
    {
        postgres.RequireServer();
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("copy"), UpsertBatchSize = 10 };
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options);
        await store.EnsureSchemaAsync();

        options.UpsertBatchSize = 0;
        options.Table = "elsewhere";
        await store.UpsertAsync(Records(25)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(25, await store.CountAsync());
    }

    [SkippableFact]
    public async Task A_table_without_an_hnsw_index_on_its_prefix_is_refused_by_an_explicit_check()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("noindex");
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector(32) NOT NULL, payload jsonb, embedding_prefix halfvec(8))");
        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false };

        await using (var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options))
        {
            var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => store.EnsureSchemaAsync());
            output.WriteLine(error.Message);
            Assert.Contains("no HNSW index on its prefix", error.Message, StringComparison.Ordinal);
        }

        await ExecuteAsync($"CREATE INDEX ON \"{table}\" USING hnsw (embedding_prefix halfvec_cosine_ops)");
        await using (var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options))
        {
            await store.EnsureSchemaAsync();
        }
    }

    [SkippableFact]
    public async Task A_table_name_that_differs_from_an_existing_one_only_in_case_is_not_created_empty()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("cased");
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector(32) NOT NULL, payload jsonb)");
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table.ToUpperInvariant() });

        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => store.EnsureSchemaAsync());

        Assert.Contains(table, error.Message, StringComparison.Ordinal);
        await using var exists = postgres.DataSource.CreateCommand($"SELECT to_regclass('\"{table.ToUpperInvariant()}\"') IS NULL");
        Assert.True((bool)(await exists.ExecuteScalarAsync())!);
    }

    [SkippableFact]
    public async Task A_schema_and_table_written_as_one_name_is_explained_and_not_created_literally()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("dotted");
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector(32) NOT NULL, payload jsonb)");
        await using var creating = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = "public." + table });
        await using var opening = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = "public." + table, CreateTableIfMissing = false });

        var created = await Assert.ThrowsAsync<SchemaMismatchException>(() => creating.EnsureSchemaAsync());
        var opened = await Assert.ThrowsAsync<SchemaMismatchException>(() => opening.EnsureSchemaAsync());

        Assert.Contains($"Table = \"{table}\"", created.Message, StringComparison.Ordinal);
        Assert.Contains($"Table = \"{table}\"", opened.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("CreateTableIfMissing", opened.Message, StringComparison.Ordinal);
        await using var literal = postgres.DataSource.CreateCommand($"SELECT to_regclass('\"public.{table}\"') IS NULL");
        Assert.True((bool)(await literal.ExecuteScalarAsync())!);
    }

    [Fact]
    public void A_scope_value_becomes_a_quoted_typed_literal_and_one_with_a_backslash_or_control_character_is_refused()
    {
        Assert.Equal("'it''s; DROP TABLE t; --'::pg_catalog.text", PgvectorTable.ScopeLiteral("it's; DROP TABLE t; --", "text"));
        Assert.Equal("'6f9619ff-8b86-d011-b42d-00cf4fc964ff'::pg_catalog.uuid", PgvectorTable.ScopeLiteral("6f9619ff-8b86-d011-b42d-00cf4fc964ff", "uuid"));
        Assert.Throws<ArgumentException>(() => PgvectorTable.ScopeLiteral("a\\'b", "text"));
        Assert.Throws<ArgumentException>(() => PgvectorTable.ScopeLiteral("a\nb", "text"));
        Assert.Throws<ArgumentException>(() => new PgvectorStoreOptions { Table = "t", ScopeColumn = "collection_id" }.Clone().Validate());
    }
}
