using System.Globalization;
using System.Numerics.Tensors;
using Mrl.Adapters.Testing;
using Mrl.Bench.Synthetic;
using Npgsql;

namespace Mrl.Adapters.Pgvector.Tests;

/// <summary>A projected key in column mode: the directions in the side table, the key computed by the trigger and the backfill.</summary>
[Collection(PostgresGroup.Name)]
public sealed class PgvectorProjectionTests(PostgresFixture postgres)
{
    private const int Dimensions = 64;
    private const int KeyDimensions = 12;

    [SkippableFact]
    public async Task Migrating_with_a_projection_fills_every_key_with_the_projected_vector_and_two_pass_search_is_exact()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("proj");
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 3 }).Generate(600);
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
        await InsertAsync(table, data, 0, 500);

        var layout = new EmbeddingLayout(ProjectionFitter.Fit(data.AsMemory(0, 500 * Dimensions), Dimensions, KeyDimensions, DistanceMetric.Cosine), DistanceMetric.Cosine);
        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false, PrefixStorage = PrefixStorage.Column };
        var migrator = new PgvectorMigrator(postgres.DataSource, layout, options);
        Assert.Contains(migrator.PlanUp(), s => s.Contains(options.ProjectionTableName, StringComparison.Ordinal));

        await migrator.UpAsync();
        await InsertAsync(table, data, 500, 100);

        Assert.Equal(KeyDimensions, await ScalarAsync<long>($"SELECT count(*) FROM \"{options.ProjectionTableName}\" WHERE version = 1"));
        await using (var command = postgres.DataSource.CreateCommand($"SELECT id, CAST(embedding_prefix AS real[]) FROM \"{table}\" ORDER BY id"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            var rows = 0;
            while (await reader.ReadAsync())
            {
                var id = reader.GetInt64(0);
                var stored = reader.GetFieldValue<float[]>(1);
                var expected = layout.ToPrefix(data.AsSpan((int)id * Dimensions, Dimensions));
                Assert.True(TensorPrimitives.Distance(stored, expected) < 5e-3f, $"row {id}: the stored key is {TensorPrimitives.Distance(stored, expected)} from the projected one");
                rows++;
            }

            Assert.Equal(600, rows);
        }

        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options);
        for (var q = 0; q < 5; q++)
        {
            var query = data.AsMemory(q * 97 * Dimensions, Dimensions);
            var twoPass = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 60, EfSearch = 1000 });
            var exact = await store.SearchAsync(query, new SearchOptions { K = 10, Strategy = SearchStrategy.FullDimension });
            Assert.Equal(exact.Hits.Select(h => h.Key), twoPass.Hits.Select(h => h.Key));
        }
    }

    [SkippableFact]
    public async Task A_store_reads_the_projection_from_the_table_and_refuses_a_truncating_layout_or_another_version()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("projopen");
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 5 }).Generate(300);
        await ExecuteAsync($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
        await InsertAsync(table, data, 0, 300);
        var projection = ProjectionFitter.Fit(data, Dimensions, KeyDimensions, DistanceMetric.Cosine);
        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false };
        await new PgvectorMigrator(postgres.DataSource, new EmbeddingLayout(projection, DistanceMetric.Cosine), options).UpAsync();

        var read = await PgvectorMigrator.ReadLayoutAsync(postgres.DataSource, options);
        Assert.Equal(projection, read.Projection);
        Assert.Equal(new EmbeddingLayout(projection, DistanceMetric.Cosine), read);

        var query = data.AsMemory(0, Dimensions);
        await using (var opened = new PgvectorAdaptiveStore<long>(postgres.DataSource, read, options))
        {
            Assert.Equal(0L, (await opened.SearchAsync(query, new SearchOptions { K = 1, Oversampling = 20 })).Hits[0].Key);
        }

        await using (var truncating = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(Dimensions, KeyDimensions), options))
        {
            var refused = await Assert.ThrowsAsync<SchemaMismatchException>(() => truncating.SearchAsync(query, new SearchOptions { K = 1 }));
            Assert.Contains("projection version 1", refused.Message, StringComparison.Ordinal);
            Assert.Contains("ReadLayoutAsync", refused.Message, StringComparison.Ordinal);
        }

        var refit = new PrefixProjection(projection.Rows, projection.Columns, projection.Matrix, version: 2);
        await using (var otherVersion = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(refit, DistanceMetric.Cosine), options))
        {
            var refused = await Assert.ThrowsAsync<SchemaMismatchException>(() => otherVersion.SearchAsync(query, new SearchOptions { K = 1 }));
            Assert.Contains("version 2, but the keys", refused.Message, StringComparison.Ordinal);
        }
    }

    private async Task InsertAsync(string table, float[] data, int first, int count)
    {
        var values = Enumerable.Range(first, count).Select(i =>
            $"({i}, '[{string.Join(',', data.AsSpan(i * Dimensions, Dimensions).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]')");
        await ExecuteAsync($"INSERT INTO \"{table}\" (id, embedding) VALUES {string.Join(',', values)}");
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
