using System.Text.Json;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// The store reaches pgvector's functions, types and operators through the schema pgvector was installed in, never through
/// the search_path: a role that may create objects in a schema earlier on the path cannot get its look-alikes run, and a
/// pgvector off the path altogether still works. Each test has a database of its own (see <see cref="HostileDatabase"/>).
/// </summary>
[Collection(PostgresGroup.Name)]
public sealed class SearchPathTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 32;
    private const int Prefix = 8;

    [SkippableTheory]
    [InlineData(PrefixStorage.Column, DistanceMetric.Cosine)]
    [InlineData(PrefixStorage.Expression, DistanceMetric.Cosine)]
    [InlineData(PrefixStorage.Column, DistanceMetric.DotProduct)]
    [InlineData(PrefixStorage.Expression, DistanceMetric.Euclidean)]
    public async Task Look_alike_functions_and_operators_in_public_are_never_called_by_the_migration_or_the_store(PrefixStorage mode, DistanceMetric metric)
    {
        await using var db = await HostileDatabase.CreateAsync(postgres, HostileDatabase.PlantFunctionsAndOperators);
        var app = db.App("public, extensions");
        var layout = new EmbeddingLayout(Dimensions, Prefix, metric);

        await UseEveryPathAsync(db, app, layout, mode);

        var calls = await db.CallsAsync();
        output.WriteLine("look-alike calls: " + (calls.Count == 0 ? "none" : string.Join(", ", calls.Select(c => $"{c.Key} x{c.Value}"))));
        Assert.Empty(calls);

        // The trap is armed: the same names, unqualified, on the application's search_path, run the look-alikes.
        await using (var unqualified = app.CreateCommand("SELECT l2_normalize(subvector(embedding, 1, 8)) <=> l2_normalize(subvector(embedding, 1, 8)) FROM public.docs LIMIT 1"))
        {
            await unqualified.ExecuteScalarAsync();
        }

        Assert.Equal(["<=>(vector)", "l2_normalize(vector)", "subvector(vector)"], (await db.CallsAsync()).Keys.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task A_vector_type_of_the_same_name_in_public_neither_confuses_parameter_typing_nor_runs_its_check()
    {
        await using var db = await HostileDatabase.CreateAsync(postgres, HostileDatabase.PlantFunctionsAndOperators, HostileDatabase.PlantTypes);
        var app = db.App("public, extensions");

        foreach (var mode in new[] { PrefixStorage.Column, PrefixStorage.Expression })
        {
            await UseEveryPathAsync(db, app, new EmbeddingLayout(Dimensions, Prefix), mode);
        }

        Assert.Empty(await db.CallsAsync());
    }

    [SkippableTheory]
    [InlineData(PrefixStorage.Column)]
    [InlineData(PrefixStorage.Expression)]
    public async Task A_store_works_when_pgvector_is_in_a_schema_that_is_not_on_the_search_path(PrefixStorage mode)
    {
        await using var db = await HostileDatabase.CreateAsync(postgres);
        var app = db.App("public");
        await using (var check = app.CreateCommand("SELECT pg_catalog.to_regtype('vector') IS NULL"))
        {
            Assert.True((bool)(await check.ExecuteScalarAsync())!);
        }

        await UseEveryPathAsync(db, app, new EmbeddingLayout(Dimensions, Prefix), mode);
    }

    [SkippableTheory]
    [InlineData("public, extensions")]
    [InlineData("public")]
    public async Task A_table_the_store_creates_itself_works_under_a_hostile_search_path_and_with_pgvector_off_it(string searchPath)
    {
        await using var db = await HostileDatabase.CreateAsync(postgres, HostileDatabase.PlantFunctionsAndOperators);
        await TestRows.ExecuteAsync(db.Admin, $"GRANT CREATE ON SCHEMA public TO {db.AppRole}");
        var app = db.App(searchPath);
        var layout = new EmbeddingLayout(Dimensions, Prefix);
        await using var store = new PgvectorAdaptiveStore<long>(app, layout, new PgvectorStoreOptions { Table = "managed" });

        await store.EnsureSchemaAsync();
        await store.UpsertAsync(Records(1, 200));

        var query = TestRows.Vector(42, 1, Dimensions);
        Assert.Equal(42L, (await store.SearchAsync(query, new SearchOptions { K = 3 })).Hits[0].Key);
        Assert.Empty(await db.CallsAsync());
    }

    [SkippableTheory]
    [InlineData(PrefixStorage.Column)]
    [InlineData(PrefixStorage.Expression)]
    public async Task The_qualified_queries_still_use_the_prefix_and_full_dimension_hnsw_indexes(PrefixStorage mode)
    {
        await using var db = await HostileDatabase.CreateAsync(postgres, HostileDatabase.PlantFunctionsAndOperators);
        var app = db.App("public, extensions");
        var layout = new EmbeddingLayout(Dimensions, Prefix);
        var options = await CreateTableAsync(db, "docs", layout, mode);
        await using (var store = new PgvectorAdaptiveStore<long>(app, layout, options))
        {
            await store.UpsertAsync(Records(1, 2_000));
        }

        await TestRows.ExecuteAsync(db.Admin, "ANALYZE public.docs");
        var table = new PgvectorTable(options, layout, VectorType.Vector, new Version(0, 8, 0), "extensions");
        var prefix = new global::Pgvector.HalfVector(layout.ToPrefix(TestRows.Vector(5, 1, Dimensions)).Select(x => (Half)x).ToArray());
        var full = new global::Pgvector.Vector(TestRows.Vector(5, 1, Dimensions));
        var halfvec = "extensions.halfvec";
        var vector = "extensions.vector";

        var pass1 = await ExplainAsync(app, table.Pass1(null, includeFullVectors: true, []), (prefix, halfvec), (80, null));
        var inDatabase = await ExplainAsync(app, table.TwoPassInDatabase(null, []), (prefix, halfvec), (80, null), (full, vector), (10, null));
        var baseline = await ExplainAsync(app, table.FullDimension(null, []), (full, vector), (10, null));
        output.WriteLine(pass1 + "\n\n" + inDatabase + "\n\n" + baseline);

        Assert.Contains("Index Scan using " + options.ResolvedIndexName(Prefix), pass1, StringComparison.Ordinal);
        Assert.Contains("Index Scan using " + options.ResolvedIndexName(Prefix), inDatabase, StringComparison.Ordinal);
        Assert.Contains("Index Scan using " + options.FullIndexName, baseline, StringComparison.Ordinal);
        Assert.Empty(await db.CallsAsync());
    }

    /// <summary>
    /// Upserts by statements and by COPY, then get, count, filtered count, search in every strategy and delete; checks each
    /// answer against an exact search in this process. Pass 1 fetches every row, so that the answer is exact for every metric.
    /// </summary>
    private static async Task UseEveryPathAsync(HostileDatabase db, NpgsqlDataSource app, EmbeddingLayout layout, PrefixStorage mode)
    {
        var options = await CreateTableAsync(db, "docs", layout, mode);
        options.CopyThreshold = 100;
        var records = Records(1, 300);
        await using (var store = new PgvectorAdaptiveStore<long>(app, layout, options))
        {
            await store.EnsureSchemaAsync();
            await store.UpsertAsync(records[..10]);
            await store.UpsertAsync(records[10..]);

            var got = await store.GetAsync(7);
            Assert.NotNull(got);
            Assert.Equal(records[6].Vector.ToArray(), got.Vector.ToArray());
            Assert.Equal(300, await store.CountAsync());
            Assert.Equal(100, await store.CountAsync(Filter.DateRange("day", lt: new DateTimeOffset(2024, 1, 2, 0, 0, 0, TimeSpan.Zero))));
            Assert.Equal(100, await store.CountAsync(Filter.Range("bucket", gte: 2)));

            foreach (var key in new long[] { 5, 150, 299 })
            {
                var query = TestRows.Vector(key, 1, Dimensions).Select((x, i) => x + (0.05f * MathF.Sin(i))).ToArray();
                var exact = Exact(layout, records, query);
                foreach (var search in new[]
                         {
                             new SearchOptions { K = 5, Oversampling = 60 },
                             new SearchOptions { K = 5, Oversampling = 60, Strategy = SearchStrategy.TwoPassInDatabase },
                             new SearchOptions { K = 5, Strategy = SearchStrategy.FullDimension, EfSearch = 300 },
                         })
                {
                    var hits = (await store.SearchAsync(query, search)).Hits;
                    Assert.Equal(exact, hits[0].Key);
                }

                Assert.Equal(5, (await store.SearchAsync(query, new SearchOptions { K = 5, Strategy = SearchStrategy.PrefixOnly })).Hits.Count);
                var filtered = (await store.SearchAsync(query, new SearchOptions { K = 5, Filter = Filter.DateRange("day", gte: new DateTimeOffset(2024, 1, 3, 0, 0, 0, TimeSpan.Zero)) })).Hits;
                Assert.Equal(5, filtered.Count);
                Assert.All(filtered, h => Assert.True(h.Key > 200));
            }

            Assert.Equal(2, await store.DeleteAsync([1, 2]));
            Assert.Equal(298, await store.CountAsync());
        }
    }

    // An application's table, created by hand with 50 rows in it, then migrated by PgvectorMigrator under the hostile
    // search_path: the trigger, the backfill and the index builds run there too. The full-dimension index is built as well.
    private static async Task<PgvectorStoreOptions> CreateTableAsync(HostileDatabase db, string table, EmbeddingLayout layout, PrefixStorage mode)
    {
        await TestRows.ExecuteAsync(db.Admin,
            $"DROP TABLE IF EXISTS public.{table}; CREATE TABLE public.{table} (id bigint PRIMARY KEY, embedding extensions.vector({Dimensions}) NOT NULL, payload jsonb); " +
            $"GRANT SELECT, INSERT, UPDATE, DELETE ON public.{table} TO {db.AppRole}");
        var options = new PgvectorStoreOptions { Schema = "public", Table = table, CreateTableIfMissing = false, PrefixStorage = mode, CreateFullDimensionIndex = true };
        await TestRows.ExecuteAsync(db.Admin,
            $"INSERT INTO public.{table} SELECT i, CAST(ARRAY(SELECT (i * 7 + d) % 13 - 6.5 FROM generate_series(1, {Dimensions}) AS d) AS extensions.vector) FROM generate_series(1, 50) AS i");

        await new PgvectorMigrator(db.Admin, layout, options).UpAsync(new PgvectorMigrationOptions { BatchSize = 20 });
        return options;
    }

    // Payload: a date (three days, 100 rows each) and a number (0-2), so both filter renderings run.
    private static VectorRecord<long>[] Records(long first, int count) =>
        Enumerable.Range(0, count).Select(i => new VectorRecord<long>(first + i, TestRows.Vector(first + i, 1, Dimensions),
            JsonSerializer.SerializeToElement(new { day = $"2024-01-0{1 + (i / 100)}", bucket = i / 100 }))).ToArray();

    private static long Exact(EmbeddingLayout layout, VectorRecord<long>[] records, float[] query)
    {
        double Score(ReadOnlySpan<float> v)
        {
            double dot = 0, vv = 0, qq = 0, l2 = 0;
            for (var i = 0; i < v.Length; i++)
            {
                dot += v[i] * query[i];
                vv += v[i] * v[i];
                qq += query[i] * query[i];
                l2 += (v[i] - query[i]) * (v[i] - query[i]);
            }

            return layout.Metric switch { DistanceMetric.Cosine => dot / Math.Sqrt(vv * qq), DistanceMetric.DotProduct => dot, _ => -l2 };
        }

        return records.MaxBy(r => Score(r.Vector.Span))!.Key;
    }

    private static async Task<string> ExplainAsync(NpgsqlDataSource app, string sql, params (object Value, string? Type)[] parameters)
    {
        await using var connection = await app.OpenConnectionAsync();
        await using (var seqscan = new NpgsqlCommand("SET enable_seqscan = off", connection))
        {
            await seqscan.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand("EXPLAIN (COSTS OFF) " + sql, connection);
        foreach (var (value, type) in parameters)
        {
            command.Parameters.Add(type is null ? new NpgsqlParameter { Value = value } : new NpgsqlParameter { Value = value, DataTypeName = type });
        }

        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }
}
