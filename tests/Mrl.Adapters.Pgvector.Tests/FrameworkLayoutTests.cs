using System.Globalization;
using System.Text.Json;
using Mrl.Bench.Synthetic;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Pgvector.Tests;

/// <summary>Tables other frameworks create, opened and searched as they are: no view, no copy.</summary>
[Collection(PostgresGroup.Name)]
public sealed class FrameworkLayoutTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private async Task ExecuteAsync(string sql, params object[] values)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }

    [SkippableFact]
    public async Task Two_langchain_collections_of_different_sizes_in_one_table_each_return_the_exact_top_10()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("langchain");
        // langchain_community's PGVector layout: every collection in one table, an untyped vector column, json metadata.
        await ExecuteAsync($"CREATE TABLE \"{table}\" (uuid uuid PRIMARY KEY, collection_id uuid, embedding vector, document varchar, cmetadata json, custom_id varchar)");
        var collections = new[] { (Id: Guid.NewGuid(), Dims: 96, Prefix: 24, Rows: 1_200), (Id: Guid.NewGuid(), Dims: 48, Prefix: 12, Rows: 600) };
        var corpora = new Dictionary<Guid, float[]>();
        foreach (var (id, dims, _, rows) in collections)
        {
            var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dims, Clusters = 20, Seed = dims }).Generate(rows);
            corpora[id] = data;
            for (var start = 0; start < rows; start += 200)
            {
                var values = Enumerable.Range(start, Math.Min(200, rows - start)).Select(i =>
                    $"(gen_random_uuid(), '{id}', '{LangChainTables.Literal(data.AsSpan(i * dims, dims))}', 'doc {i}', '{{\"n\": {i}, \"odd\": {(i % 2 == 1 ? "true" : "false")}}}')");
                await ExecuteAsync($"INSERT INTO \"{table}\" (uuid, collection_id, embedding, document, cmetadata) VALUES {string.Join(", ", values)}");
            }
        }

        foreach (var (id, dims, prefix, _) in collections)
        {
            var layout = new EmbeddingLayout(dims, prefix);
            var options = Options(table, id, dims);
            await new PgvectorMigrator(postgres.DataSource, layout, options).UpAsync();
            await using var store = new PgvectorAdaptiveStore<Guid>(postgres.DataSource, layout, options);
            await store.EnsureSchemaAsync();

            // Each collection has a partial index of its own, and pass 1 of its store is an index scan on it.
            var index = options.ResolvedIndexName(prefix);
            Assert.Equal($"(collection_id = '{id}'::uuid)", await PredicateAsync(index));
            var plan = await ExplainPass1Async(table, new PgvectorTable(options, layout, VectorType.Vector, new Version(0, 8, 0), "public",
                undeclaredDimension: true, scopeType: "uuid", payloadIsJson: true), prefix);
            Assert.Contains($"Index Scan using {index}", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("collection_id", plan, StringComparison.Ordinal);

            Assert.Equal(collections.Single(c => c.Id == id).Rows, await store.CountAsync());
            Assert.Equal(collections.Single(c => c.Id == id).Rows / 2, await store.CountAsync(Filter.Eq("odd", true)));
            var exactMatches = 0;
            var queries = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dims, Clusters = 20, Seed = dims }).Generate(20, stream: 1);
            for (var q = 0; q < 20; q++)
            {
                var query = queries.AsMemory(q * dims, dims);
                var exact = await BruteForceAsync(table, id, dims, query);
                var hits = (await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 16 })).Hits.Select(h => h.Key).ToArray();
                exactMatches += exact.SequenceEqual(hits) ? 1 : 0;
                Assert.All(hits, key => Assert.Contains(key, exact));
            }

            output.WriteLine($"collection of {dims} dimensions: {exactMatches} of 20 queries returned the exact top-10 in order");
            Assert.True(exactMatches >= 18, $"{exactMatches} of 20");
            var filtered = (await store.SearchAsync(queries.AsMemory(0, dims), new SearchOptions { K = 10, Filter = Filter.Eq("odd", true) })).Hits;
            Assert.Equal(10, filtered.Count);
            Assert.All(filtered, h => Assert.True(h.Payload!.Value.GetProperty("odd").GetBoolean()));
        }

        // The two collections never see each other's rows, in reads and deletes too.
        var (first, second) = (collections[0], collections[1]);
        await using var firstStore = new PgvectorAdaptiveStore<Guid>(postgres.DataSource, new EmbeddingLayout(first.Dims, first.Prefix), Options(table, first.Id, first.Dims));
        await using var keys = postgres.DataSource.CreateCommand($"SELECT uuid FROM \"{table}\" WHERE collection_id = $1 LIMIT 1");
        keys.Parameters.Add(new NpgsqlParameter { Value = second.Id });
        var secondKey = (Guid)(await keys.ExecuteScalarAsync())!;
        Assert.Null(await firstStore.GetAsync(secondKey));
        Assert.Equal(0, await firstStore.DeleteAsync([secondKey]));

        var added = new VectorRecord<Guid>(Guid.NewGuid(), corpora[first.Id].AsMemory(0, first.Dims), JsonSerializer.SerializeToElement(new { n = -1 }));
        await firstStore.UpsertAsync([added]);
        await using var scope = postgres.DataSource.CreateCommand($"SELECT collection_id FROM \"{table}\" WHERE uuid = $1");
        scope.Parameters.Add(new NpgsqlParameter { Value = added.Key });
        Assert.Equal(first.Id, (Guid)(await scope.ExecuteScalarAsync())!);
    }

    [SkippableTheory]
    [InlineData("supabase-vecs")]
    [InlineData("semantic-kernel")]
    public async Task Supabase_vecs_and_semantic_kernel_tables_migrate_and_search_as_they_are(string layout)
    {
        postgres.RequireServer();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        // Supabase vecs: schema vecs, text ids, a vec column, jsonb metadata. Semantic Kernel's Postgres connector: quoted
        // mixed-case identifiers named after the record's properties, here in a schema of the application's own.
        var (schema, table, key, vector, payload, keyType) = layout == "supabase-vecs"
            ? ("vecs", "docs_" + suffix, "id", "vec", "metadata", "text")
            : ("App_" + suffix, "Hotels", "HotelId", "DescriptionEmbedding", (string?)null, "bigint");
        await ExecuteAsync($"CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        await ExecuteAsync($"CREATE TABLE \"{schema}\".\"{table}\" (\"{key}\" {keyType} PRIMARY KEY, \"{vector}\" vector(64) NOT NULL" +
                           (payload is null ? ", \"HotelName\" text, \"Rating\" double precision)" : $", \"{payload}\" jsonb)"));
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 64, Clusters = 10 }).Generate(300);
        var rows = Enumerable.Range(0, 300).Select(i => payload is null
            ? $"({i}, '{LangChainTables.Literal(data.AsSpan(i * 64, 64))}', 'hotel {i}', {i % 5})"
            : $"('doc-{i}', '{LangChainTables.Literal(data.AsSpan(i * 64, 64))}', '{{\"i\": {i}}}')");
        await ExecuteAsync($"INSERT INTO \"{schema}\".\"{table}\" VALUES {string.Join(", ", rows)}");

        var options = new PgvectorStoreOptions
        {
            Schema = schema, Table = table, KeyColumn = key, VectorColumn = vector, PayloadColumn = payload, CreateTableIfMissing = false,
        };
        if (payload is null)
        {
            options.PayloadColumns.Add("HotelName");
            options.PayloadColumns.Add("Rating");
        }

        var embedding = new EmbeddingLayout(64, 16);
        await new PgvectorMigrator(postgres.DataSource, embedding, options).UpAsync();
        if (payload is null)
        {
            await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, embedding, options);
            await store.EnsureSchemaAsync();
            var hit = (await store.SearchAsync(data.AsMemory(42 * 64, 64), new SearchOptions { K = 3, Filter = Filter.Eq("Rating", 2) })).Hits[0];
            Assert.Equal(42L, hit.Key);
            Assert.Equal("hotel 42", hit.Payload!.Value.GetProperty("HotelName").GetString());
        }
        else
        {
            await using var store = new PgvectorAdaptiveStore<string>(postgres.DataSource, embedding, options);
            await store.EnsureSchemaAsync();
            var hit = (await store.SearchAsync(data.AsMemory(42 * 64, 64), new SearchOptions { K = 3 })).Hits[0];
            Assert.Equal("doc-42", hit.Key);
            Assert.Equal(42, hit.Payload!.Value.GetProperty("i").GetInt32());
        }

        await ExecuteAsync($"DROP SCHEMA \"{schema}\" CASCADE");
    }

    private async Task<string?> PredicateAsync(string index)
    {
        await using var command = postgres.DataSource.CreateCommand(
            "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i WHERE i.indexrelid = to_regclass($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = index });
        return await command.ExecuteScalarAsync() as string;
    }

    private async Task<string> ExplainPass1Async(string table, PgvectorTable rendering, int prefix)
    {
        await ExecuteAsync($"ANALYZE \"{table}\"");
        var sql = rendering.Pass1(filter: null, includeFullVectors: true, []).Replace("$2", "40", StringComparison.Ordinal);
        await using var connection = await postgres.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // A table this small is cheaper to scan than to search: the plan shows whether the partial index can serve pass 1 at all,
        // which it can only when the query's predicate implies the index's.
        await using (var noSeqScan = new NpgsqlCommand("SET LOCAL enable_seqscan = off", connection, transaction))
        {
            await noSeqScan.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand("EXPLAIN " + sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = new global::Pgvector.HalfVector(Enumerable.Repeat((Half)0.25f, prefix).ToArray()) });
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        var plan = string.Join('\n', lines);
        output.WriteLine(plan);
        return plan;
    }

    private static PgvectorStoreOptions Options(string table, Guid collection, int dims) => new()
    {
        Table = table,
        KeyColumn = "uuid",
        PayloadColumn = "cmetadata",
        PrefixColumn = "embedding_p" + dims.ToString(CultureInfo.InvariantCulture),
        ScopeColumn = "collection_id",
        ScopeValue = collection.ToString(),
        CreateTableIfMissing = false,
    };

    private Task<Guid[]> BruteForceAsync(string table, Guid collection, int dims, ReadOnlyMemory<float> query) =>
        LangChainTables.BruteForceTop10Async(postgres.DataSource, "\"" + table + "\"", collection, dims, query);
}
