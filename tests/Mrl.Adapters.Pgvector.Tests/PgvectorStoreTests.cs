using System.Text.Json;
using Mrl.Bench.Synthetic;
using Mrl.Adapters.Testing;
using Npgsql;

namespace Mrl.Adapters.Pgvector.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PgvectorStoreTests(PostgresFixture postgres)
{
    private static VectorRecord<long>[] Records(int count, int dimensions, Func<int, object>? payload = null, int seed = 5)
    {
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dimensions, Clusters = 20, Seed = seed }).Generate(count);
        return Enumerable.Range(0, count)
            .Select(i => new VectorRecord<long>(i, data.AsMemory(i * dimensions, dimensions), payload is null ? null : JsonSerializer.SerializeToElement(payload(i))))
            .ToArray();
    }

    private async Task<PgvectorAdaptiveStore<long>> CreateStoreAsync(EmbeddingLayout layout, PgvectorStoreOptions options)
    {
        postgres.RequireServer();
        var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options);
        await store.EnsureSchemaAsync();
        return store;
    }

    private async Task<string> ExplainAsync(string sql, params object[] parameters)
    {
        await using var connection = await postgres.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("EXPLAIN " + sql, connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join('\n', lines);
    }

    [SkippableTheory]
    [InlineData(PrefixStorage.Column)]
    [InlineData(PrefixStorage.Expression)]
    public async Task Pass_1_uses_the_prefix_hnsw_index_in_both_prefix_modes(PrefixStorage mode)
    {
        var layout = new EmbeddingLayout(64, 16);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("explain"), PrefixStorage = mode };
        await using var store = await CreateStoreAsync(layout, options);
        await store.UpsertAsync(Records(2000, 64));
        await using (var analyze = postgres.DataSource.CreateCommand($"ANALYZE \"{options.Table}\""))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var table = new PgvectorTable(options, layout, VectorType.Vector, new Version(0, 8, 0), "public");
        var sql = table.Pass1(filter: null, includeFullVectors: true, []);
        var query = new global::Pgvector.HalfVector(Enumerable.Repeat((Half)0.25f, 16).ToArray());
        var plan = await ExplainAsync(sql.Replace("$2", "80", StringComparison.Ordinal), query);

        Assert.Contains($"Index Scan using {options.ResolvedIndexName(16)}", plan, StringComparison.Ordinal);
        if (mode == PrefixStorage.Expression)
        {
            Assert.Contains("l2_normalize(subvector(embedding, 1, 16))", plan, StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [InlineData(PrefixStorage.Column)]
    [InlineData(PrefixStorage.Expression)]
    public async Task Manhattan_layouts_index_the_prefix_with_l1_ops_and_pass_1_uses_it(PrefixStorage mode)
    {
        var layout = new EmbeddingLayout(64, 16, DistanceMetric.Manhattan);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("l1"), PrefixStorage = mode };
        await using var store = await CreateStoreAsync(layout, options);
        var records = Records(2000, 64);
        await store.UpsertAsync(records);
        await using (var analyze = postgres.DataSource.CreateCommand($"ANALYZE \"{options.Table}\""))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        await using var opclass = postgres.DataSource.CreateCommand(
            "SELECT o.opcname FROM pg_index i JOIN pg_opclass o ON o.oid = i.indclass[0] WHERE i.indexrelid = to_regclass($1)");
        opclass.Parameters.AddWithValue(options.ResolvedIndexName(16));
        var table = new PgvectorTable(options, layout, VectorType.Vector, new Version(0, 8, 0), "public");
        var sql = table.Pass1(filter: null, includeFullVectors: true, []);
        var prefixQuery = new global::Pgvector.HalfVector(layout.ToPrefix(records[9].Vector.Span).Select(x => (Half)x).ToArray());
        var plan = await ExplainAsync(sql.Replace("$2", "80", StringComparison.Ordinal), prefixQuery);
        var query = records[9].Vector;
        var matrix = records.SelectMany(r => r.Vector.ToArray()).ToArray();
        var exact = ExactKnn.Search(matrix, records.Length, 64, query, 10, DistanceMetric.Manhattan);
        var twoPass = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 100, EfSearch = 1000 });
        var inDatabase = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 100, EfSearch = 1000, Strategy = SearchStrategy.TwoPassInDatabase });

        Assert.Equal("halfvec_l1_ops", await opclass.ExecuteScalarAsync());
        Assert.Contains($"Index Scan using {options.ResolvedIndexName(16)}", plan, StringComparison.Ordinal);
        Assert.Contains("<+>", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("l2_normalize", plan, StringComparison.Ordinal);
        Assert.Equal(exact.Select(e => (long)e.Index), twoPass.Hits.Select(h => h.Key));
        Assert.Equal(0f, twoPass.Hits[0].Score);
        Assert.All(exact.Zip(twoPass.Hits), p => Assert.Equal(p.First.Score, p.Second.Score, 3));
        Assert.Equal(exact.Select(e => (long)e.Index), inDatabase.Hits.Select(h => h.Key));
        Assert.All(exact.Zip(inDatabase.Hits), p => Assert.Equal(p.First.Score, p.Second.Score, 3));
    }

    [SkippableFact]
    public async Task Filter_matching_one_percent_of_rows_still_returns_k_rows()
    {
        var layout = new EmbeddingLayout(64, 16);
        await using var store = await CreateStoreAsync(layout, new PgvectorStoreOptions { Table = postgres.NewTableName("sparse") });
        var records = Records(10_000, 64, i => new { bucket = i % 100 });
        await store.UpsertAsync(records);

        var filter = Filter.Eq("bucket", 7);
        foreach (var rerank in new[] { SearchStrategy.TwoPass, SearchStrategy.PrefixOnly, SearchStrategy.TwoPassInDatabase })
        {
            var result = await store.SearchAsync(records[5000].Vector, new SearchOptions { K = 10, Filter = filter, Strategy = rerank });
            Assert.Equal(10, result.Hits.Count);
            Assert.All(result.Hits, h => Assert.Equal(7, h.Key % 100));
        }
    }

    [SkippableFact]
    public async Task A_search_for_the_largest_k_on_a_ten_row_halfvec_3072_table_allocates_for_the_rows_it_returns()
    {
        const int d = 3072;
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("hugek"), FullVectorType = VectorType.HalfVec };
        await using var store = await CreateStoreAsync(new EmbeddingLayout(d, 256), options);
        var records = Records(10, d);
        await store.UpsertAsync(records);
        var search = new SearchOptions { K = SearchOptions.MaxCandidates, Oversampling = 1 };
        await store.SearchAsync(records[0].Vector, new SearchOptions { K = 10, Oversampling = 1 });

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await store.SearchAsync(records[3].Vector, search);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(10, result.Hits.Count);
        Assert.Equal(3L, result.Hits[0].Key);
        // Renting room for k = 100,000 full vectors took 2 GiB; ten rows need well under a megabyte, the rest is slack for
        // whatever else runs in the process meanwhile.
        Assert.True(allocated < 64L * 1024 * 1024, $"{allocated} bytes allocated by one search returning 10 rows");
    }

    [SkippableTheory]
    [InlineData(256, VectorType.Vector)]
    [InlineData(512, VectorType.HalfVec)]
    public async Task A_3072_dimension_layout_works_end_to_end(int prefix, VectorType fullType)
    {
        const int d = 3072;
        var layout = new EmbeddingLayout(d, prefix);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("wide"), FullVectorType = fullType, CreateFullDimensionIndex = true };
        await using var store = await CreateStoreAsync(layout, options);
        var records = Records(1500, d);
        await store.UpsertAsync(records);
        var matrix = records.SelectMany(r => r.Vector.ToArray()).ToArray();
        var queries = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Clusters = 20, Seed = 5 }).Generate(10, stream: 1);

        double recallTwoPass = 0, recallFull = 0;
        for (var q = 0; q < 10; q++)
        {
            var query = queries.AsMemory(q * d, d);
            var exact = ExactKnn.Search(matrix, records.Length, d, query, 10, DistanceMetric.Cosine).Select(e => (long)e.Index).ToHashSet();
            var twoPass = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 8 });
            var full = await store.SearchAsync(query, new SearchOptions { K = 10, Strategy = SearchStrategy.FullDimension });
            recallTwoPass += twoPass.Hits.Count(h => exact.Contains(h.Key)) / 10.0;
            recallFull += full.Hits.Count(h => exact.Contains(h.Key)) / 10.0;
            Assert.Equal(fullType == VectorType.HalfVec ? d * 2 * 80 : d * 4 * 80, twoPass.Diagnostics.BytesFetched);
        }

        Assert.True(recallTwoPass / 10 >= 0.95, $"two-pass recall {recallTwoPass / 10}");
        Assert.True(recallFull / 10 >= 0.9, $"full recall {recallFull / 10}");
        var fetched = await store.GetAsync(3);
        Assert.Equal(d, fetched!.Vector.Length);
    }

    [SkippableFact]
    public async Task Unfiltered_searches_on_a_toast_table_use_the_indexes_even_at_the_highest_ef_search()
    {
        // vector(3072) lives out of line, so the heap looks small to the planner; at a high ef_search it would otherwise
        // prefer a sequential scan that detoasts and casts every row. One pooled connection: the statistics read below are
        // the same backend's, flushed on demand, so the counts are exact rather than eventually consistent.
        postgres.RequireServer();
        const int d = 3072;
        var layout = new EmbeddingLayout(d, 256);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("toast"), FullVectorType = VectorType.Vector, CreateFullDimensionIndex = true };
        await using var dataSource = PgvectorDataSource.Create(new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        await using var store = new PgvectorAdaptiveStore<long>(dataSource, layout, options);
        await store.EnsureSchemaAsync();
        var records = Records(400, d);
        await store.UpsertAsync(records);
        await using (var analyze = dataSource.CreateCommand($"ANALYZE \"{options.Table}\""))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var before = await ScanCountsAsync(dataSource, options.Table);
        for (var q = 0; q < 3; q++)
        {
            var full = await store.SearchAsync(records[q].Vector, new SearchOptions { K = 10, Strategy = SearchStrategy.FullDimension, EfSearch = 1000 });
            var twoPass = await store.SearchAsync(records[q].Vector, new SearchOptions { K = 10, Oversampling = 8, EfSearch = 1000 });
            Assert.Equal(q, full.Hits[0].Key);
            Assert.Equal(q, twoPass.Hits[0].Key);
        }

        var after = await ScanCountsAsync(dataSource, options.Table);
        Assert.Equal(before.Sequential, after.Sequential);
        Assert.True(after.Index >= before.Index + 6, $"index scans {before.Index} -> {after.Index}");
    }

    private static async Task<(long Sequential, long Index)> ScanCountsAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        foreach (var sql in new[] { "SELECT pg_stat_force_next_flush()", "SELECT pg_stat_clear_snapshot()" })
        {
            await using var step = new NpgsqlCommand(sql, connection);
            await step.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(
            "SELECT coalesce(seq_scan, 0), coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relid = to_regclass($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Quote(table) });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    [SkippableFact]
    public async Task The_prefix_the_trigger_writes_equals_the_client_prefix()
    {
        var layout = new EmbeddingLayout(48, 12);
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("trig"), PrefixVectorType = VectorType.Vector };
        await using var store = await CreateStoreAsync(layout, options);
        var records = Records(50, 48);
        await store.UpsertAsync(records);

        await using var command = postgres.DataSource.CreateCommand($"SELECT id, embedding_prefix FROM \"{options.Table}\" ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var stored = reader.GetFieldValue<global::Pgvector.Vector>(1).ToArray();
            var expected = layout.ToPrefix(records[reader.GetInt64(0)].Vector.Span);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], stored[i], tolerance: 1e-6);
            }
        }
    }

    [SkippableFact]
    public async Task Existing_table_with_plain_payload_columns_round_trips_and_filters()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("plain");
        await using (var create = postgres.DataSource.CreateCommand(
            $"CREATE TABLE \"{table}\" (doc_id text PRIMARY KEY, title text, year int, published timestamptz, vec vector(32), vec_prefix halfvec(8))"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var layout = new EmbeddingLayout(32, 8);
        var options = new PgvectorStoreOptions
        {
            Table = table, KeyColumn = "doc_id", VectorColumn = "vec", PrefixColumn = "vec_prefix", PayloadColumn = null, CreateTableIfMissing = false,
        };
        options.PayloadColumns.Add("title");
        options.PayloadColumns.Add("year");
        options.PayloadColumns.Add("published");
        var migrator = new PgvectorMigrator(postgres.DataSource, layout, options);
        await migrator.UpAsync();
        await using var store = new PgvectorAdaptiveStore<string>(postgres.DataSource, layout, options);
        await store.EnsureSchemaAsync();

        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 32 }).Generate(40);
        var records = Enumerable.Range(0, 40).Select(i => new VectorRecord<string>($"d{i}", data.AsMemory(i * 32, 32),
            JsonSerializer.SerializeToElement(new { title = $"title {i}", year = 2000 + i, published = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(i) }))).ToArray();
        await store.UpsertAsync(records);

        var got = await store.GetAsync("d7");
        Assert.Equal("title 7", got!.Payload!.Value.GetProperty("title").GetString());
        Assert.Equal(2007, got.Payload.Value.GetProperty("year").GetInt32());
        Assert.Equal(5, await store.CountAsync(Filter.Range("year", gte: 2010, lt: 2015)));
        Assert.Equal(2, await store.CountAsync(Filter.In("title", ["title 3", "title 4"])));
        Assert.Equal(3, await store.CountAsync(Filter.DateRange("published", lt: new DateTimeOffset(2020, 1, 4, 0, 0, 0, TimeSpan.Zero))));
        var hits = (await store.SearchAsync(records[12].Vector, new SearchOptions { K = 3, Filter = Filter.Eq("year", 2012) })).Hits;
        Assert.Equal("d12", Assert.Single(hits).Key);

        var bad = records[0] with { Key = "new", Payload = JsonSerializer.SerializeToElement(new { author = "x" }) };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync([bad]));
        Assert.Contains("author", error.Message, StringComparison.Ordinal);
        Assert.Null(await store.GetAsync("new"));
        Assert.Throws<ArgumentException>(() => store.CountAsync(Filter.Eq("author", "x")).GetAwaiter().GetResult());
    }

    [SkippableFact]
    public async Task Start_up_explains_a_table_that_does_not_fit_the_layout()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("mismatch");
        await using (var create = postgres.DataSource.CreateCommand($"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, embedding vector(64), payload jsonb)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false };
        await using var wrongDims = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(768, 128), options);
        var dims = await Assert.ThrowsAsync<SchemaMismatchException>(() => wrongDims.EnsureSchemaAsync());
        Assert.Contains("64 dimensions; the layout says 768", dims.Message, StringComparison.Ordinal);

        await using var noPrefix = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(64, 16), options);
        var prefix = await Assert.ThrowsAsync<SchemaMismatchException>(() => noPrefix.EnsureSchemaAsync());
        Assert.Contains("mrl migrate postgres", prefix.Message, StringComparison.Ordinal);

        await using var wrongKey = new PgvectorAdaptiveStore<Guid>(postgres.DataSource, new EmbeddingLayout(64, 16), options);
        var key = await Assert.ThrowsAsync<SchemaMismatchException>(() => wrongKey.EnsureSchemaAsync());
        Assert.Contains("int8", key.Message, StringComparison.Ordinal);

        await using var missing = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(64, 16), new PgvectorStoreOptions { Table = "no_such_table", CreateTableIfMissing = false });
        var none = await Assert.ThrowsAsync<SchemaMismatchException>(() => missing.EnsureSchemaAsync());
        Assert.Contains("does not exist", none.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Start_up_says_so_when_pgvector_is_not_installed()
    {
        postgres.RequireServer();
        var database = "mrl_noext_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = NpgsqlDataSource.Create(postgres.AdminConnectionString);
        await using (var create = admin.CreateCommand($"CREATE DATABASE {database}"))
        {
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            var connection = new NpgsqlConnectionStringBuilder(postgres.AdminConnectionString) { Database = database, Pooling = false }.ConnectionString;
            await using var store = new PgvectorAdaptiveStore<long>(new EmbeddingLayout(16, 4), new PgvectorStoreOptions { ConnectionString = connection, Table = "t", CreateTableIfMissing = false });
            var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => store.EnsureSchemaAsync());
            Assert.Contains("pgvector extension is not installed", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await using var drop = admin.CreateCommand($"DROP DATABASE {database} WITH (FORCE)");
            await drop.ExecuteNonQueryAsync();
        }
    }

    [SkippableFact]
    public async Task Hostile_identifiers_are_quoted_and_overlong_ones_refused()
    {
        var layout = new EmbeddingLayout(16, 4);
        var hostile = "t\"; DROP TABLE x; --é" + Guid.NewGuid().ToString("N")[..6];
        await using var store = await CreateStoreAsync(layout, new PgvectorStoreOptions { Table = hostile, PayloadColumn = "pay\"load" });
        await store.UpsertAsync(Records(5, 16, i => new { n = i }));
        Assert.Equal(5, await store.CountAsync());
        Assert.Equal(1, await store.CountAsync(Filter.Eq("n", 3)));
        Assert.Equal(1, await store.CountAsync(Filter.Eq("weird'; field", "x") | Filter.Eq("n", 1)));

        Assert.Throws<ArgumentException>(() => new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, new PgvectorStoreOptions { Table = new string('a', 64) }));
    }

    [SkippableFact]
    public async Task Copy_and_statement_upserts_write_the_same_rows()
    {
        var layout = new EmbeddingLayout(32, 8);
        await using var copy = await CreateStoreAsync(layout, new PgvectorStoreOptions { Table = postgres.NewTableName("copy"), CopyThreshold = 1 });
        var records = Records(300, 32, i => new { i });
        await copy.UpsertAsync(records);
        await copy.UpsertAsync(records.Take(10).Select(r => r with { Payload = JsonSerializer.SerializeToElement(new { i = -1 }) }).ToArray());

        Assert.Equal(300, await copy.CountAsync());
        Assert.Equal(10, await copy.CountAsync(Filter.Eq("i", -1)));
        var got = await copy.GetAsync(200);
        Assert.Equal(records[200].Vector.ToArray(), got!.Vector.ToArray());
    }
}
