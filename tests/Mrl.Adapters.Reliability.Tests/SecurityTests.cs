using System.Text.Json;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>Least privilege (an owner role migrates, an application role with only DML uses the store), and no SQL injection.</summary>
[Collection(PostgresGroup.Name)]
public sealed class SecurityTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Dimensions = 32;
    private static readonly EmbeddingLayout Layout = new(Dimensions, 8);

    private string As(string role, string password) =>
        new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Username = role, Password = password, Pooling = false }.ConnectionString;

    private async Task<long> CountCatalogAsync(string sql) => await TestRows.ScalarAsync<long>(postgres.DataSource, sql);

    /// <summary>What the migration adds to a table, as the catalog shows it: prefix column, triggers, trigger function, indexes other than the key's.</summary>
    private async Task<(long Columns, long Triggers, long Functions, long Indexes)> MigrationTracesAsync(string schema, string table) => (
        await CountCatalogAsync($"SELECT count(*) FROM pg_attribute WHERE attrelid = '\"{schema}\".\"{table}\"'::regclass AND attname = 'embedding_prefix' AND NOT attisdropped"),
        await CountCatalogAsync($"SELECT count(*) FROM pg_trigger WHERE tgrelid = '\"{schema}\".\"{table}\"'::regclass AND NOT tgisinternal"),
        await CountCatalogAsync($"SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '{schema}' AND p.proname LIKE '{table}%'"),
        await CountCatalogAsync($"SELECT count(*) FROM pg_index WHERE indrelid = '\"{schema}\".\"{table}\"'::regclass AND NOT indisprimary"));

    [SkippableFact]
    public async Task The_owner_migrates_an_application_role_with_only_dml_uses_the_store_and_cannot_migrate_leaving_nothing_half_made()
    {
        postgres.RequireServer();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var (owner, app, schema, password) = ("mrl_owner_" + suffix, "mrl_app_" + suffix, "sec_" + suffix, "pw_" + suffix);
        await using var admin = NpgsqlDataSource.Create(postgres.ConnectionString);
        await TestRows.ExecuteAsync(admin, $"CREATE ROLE {owner} LOGIN PASSWORD '{password}'; CREATE ROLE {app} LOGIN PASSWORD '{password}'; " +
                                           $"CREATE SCHEMA {schema} AUTHORIZATION {owner}; GRANT USAGE ON SCHEMA {schema} TO {app}");
        try
        {
            // The application's table, owned by the owner role; the application role gets DML and nothing else.
            await using var asOwner = PgvectorDataSource.Create(As(owner, password));
            await using var asApp = PgvectorDataSource.Create(As(app, password));
            await TestRows.ExecuteAsync(asOwner, $"CREATE TABLE {schema}.docs (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, payload jsonb)");
            await TestRows.ExecuteAsync(asOwner, $"GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.docs TO {app}");
            await using (var seed = new PgvectorAdaptiveStore<long>(asApp, Layout, new PgvectorStoreOptions { Schema = schema, Table = "docs", CreateTableIfMissing = false }))
            {
                var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => seed.EnsureSchemaAsync());
                output.WriteLine("before the migration, the store says: " + error.Message);
            }

            await TestRows.ExecuteAsync(asOwner, $"INSERT INTO {schema}.docs SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, {Dimensions}))::vector FROM generate_series(1, 500) AS i");

            foreach (var mode in new[] { PrefixStorage.Column, PrefixStorage.Expression })
            {
                var options = new PgvectorStoreOptions { Schema = schema, Table = "docs", CreateTableIfMissing = false, PrefixStorage = mode };
                var denied = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(asApp, Layout, options).UpAsync());
                output.WriteLine($"{mode} migration as {app}: {denied.Message}");
                Assert.Contains($"owned by '{owner}'", denied.Message, StringComparison.Ordinal);
                Assert.Equal((0L, 0L, 0L, 0L), await MigrationTracesAsync(schema, "docs"));
            }

            var column = new PgvectorStoreOptions { Schema = schema, Table = "docs", CreateTableIfMissing = false };
            await new PgvectorMigrator(asOwner, Layout, column).UpAsync();
            Assert.Equal((1L, 1L, 2L, 2L), await MigrationTracesAsync(schema, "docs"));

            // The application role writes through the trigger (which runs as the invoker), by statements and by COPY.
            await using (var store = new PgvectorAdaptiveStore<long>(asApp, Layout, new PgvectorStoreOptions { Schema = schema, Table = "docs", CreateTableIfMissing = false, CopyThreshold = 1_000 }))
            {
                await store.EnsureSchemaAsync();
                await store.UpsertAsync(TestRows.Records(1, 10, generation: 1, Dimensions));
                await store.UpsertAsync(TestRows.Records(10_000, 1_500, generation: 1, Dimensions));
                Assert.Equal(2_000, await store.CountAsync());
                Assert.Equal(5L, (await store.SearchAsync(TestRows.Vector(5, 1, Dimensions), new SearchOptions { K = 3 })).Hits[0].Key);
                Assert.Equal(10_100L, (await store.SearchAsync(TestRows.Vector(10_100, 1, Dimensions), new SearchOptions { K = 3 })).Hits[0].Key);
                Assert.Equal(2, await store.DeleteAsync([1, 2]));
                Assert.Equal(0L, await CountCatalogAsync(
                    $"SELECT count(*) FROM {schema}.docs WHERE embedding_prefix IS DISTINCT FROM CAST(l2_normalize(subvector(embedding, 1, 8)) AS halfvec(8))"));

                var down = await Assert.ThrowsAsync<PgvectorMigrationException>(() => new PgvectorMigrator(asApp, Layout, column).DownAsync());
                Assert.Contains($"owned by '{owner}'", down.Message, StringComparison.Ordinal);
                Assert.Equal((1L, 1L, 2L, 2L), await MigrationTracesAsync(schema, "docs"));
            }

            // Nor can it create a managed table in a schema it may only use.
            await using var creating = new PgvectorAdaptiveStore<long>(asApp, Layout, new PgvectorStoreOptions { Schema = schema, Table = "new_docs" });
            var create = await Assert.ThrowsAsync<PgvectorMigrationException>(() => creating.EnsureSchemaAsync());
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, create.SqlState);
            Assert.Equal(0L, await CountCatalogAsync($"SELECT count(*) FROM pg_class WHERE relname LIKE 'new_docs%'"));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await TestRows.ExecuteAsync(admin, $"DROP SCHEMA IF EXISTS {schema} CASCADE; DROP OWNED BY {owner}, {app}; DROP ROLE {owner}; DROP ROLE {app}");
        }
    }

    [SkippableFact]
    public async Task Hostile_filter_fields_and_values_are_bound_as_parameters_and_cannot_change_the_statement()
    {
        const string field = "f'); DELETE FROM t; --\"";
        const string value = "v' OR '1'='1'; DROP TABLE x; --";
        await using var test = await TestStore.CreateAsync(postgres, "inject", Layout);
        var (store, _, table) = test;
        await store.UpsertAsync(
        [
            new VectorRecord<long>(1, TestRows.Vector(1, 0, Dimensions), JsonSerializer.SerializeToElement(new Dictionary<string, string> { [field] = value })),
            new VectorRecord<long>(2, TestRows.Vector(2, 0, Dimensions), JsonSerializer.SerializeToElement(new Dictionary<string, string> { [field] = "other" })),
            new VectorRecord<long>(3, TestRows.Vector(3, 0, Dimensions), JsonSerializer.SerializeToElement(new { n = 1 })),
        ]);

        var filter = Filter.Eq(field, value) | Filter.In(field, ["x' OR 1=1 --", value]);
        Assert.Equal(1, await store.CountAsync(filter));
        Assert.Equal(0, await store.CountAsync(Filter.Eq(field, "' OR '1'='1")));
        Assert.Equal(1L, Assert.Single((await store.SearchAsync(TestRows.Vector(2, 0, Dimensions), new SearchOptions { K = 3, Filter = filter })).Hits).Key);
        Assert.Equal(3, await store.CountAsync());

        // The statement text holds placeholders only; every hostile string travels as a parameter.
        var parameters = new List<NpgsqlParameter>();
        var sql = new PgvectorTable(new PgvectorStoreOptions { Table = table }, Layout, VectorType.Vector, new Version(0, 8, 0), "public").Count(filter, parameters);
        output.WriteLine(sql);
        Assert.DoesNotContain("DELETE", sql, StringComparison.Ordinal);
        Assert.DoesNotContain("OR '1'", sql, StringComparison.Ordinal);
        Assert.Contains(parameters, p => p.Value is string s && s == field);
        Assert.Contains(parameters, p => p.Value is string s && s.Contains("DROP TABLE x", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task Hostile_plain_payload_column_names_are_quoted_and_a_filter_on_any_other_field_is_refused()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("plaininj");
        const string column = "c\"; DROP TABLE x; --";
        await TestRows.ExecuteAsync(postgres.DataSource,
            $"CREATE TABLE \"{table}\" (id bigint PRIMARY KEY, \"$body$vec\" vector({Dimensions}), \"c\"\"; DROP TABLE x; --\" text)");
        var options = new PgvectorStoreOptions { Table = table, VectorColumn = "$body$vec", PayloadColumn = null, CreateTableIfMissing = false };
        options.PayloadColumns.Add(column);
        await new PgvectorMigrator(postgres.DataSource, Layout, options).UpAsync();
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, options);
        await store.EnsureSchemaAsync();

        await store.UpsertAsync([new VectorRecord<long>(1, TestRows.Vector(1, 0, Dimensions), JsonSerializer.SerializeToElement(new Dictionary<string, string> { [column] = "'; --" }))]);
        Assert.Equal(1, await store.CountAsync(Filter.Eq(column, "'; --")));
        Assert.Equal("'; --", (await store.GetAsync(1))!.Payload!.Value.GetProperty(column).GetString());
        await Assert.ThrowsAsync<ArgumentException>(() => store.CountAsync(Filter.Eq("id; DROP TABLE x", 1)));
        Assert.Equal(0L, await CountCatalogAsync(
            $"SELECT count(*) FROM \"{table}\" WHERE \"$body$vec_prefix\" IS DISTINCT FROM CAST(l2_normalize(subvector(\"$body$vec\", 1, 8)) AS halfvec(8))"));
    }

    [Fact]
    public void A_fold_of_twelve_thousand_conditions_renders_flat_and_a_hand_built_deep_filter_is_refused_before_rendering()
    {
        var fold = Enumerable.Range(0, 12_000).Select(i => Filter.Eq("n", i)).Aggregate((a, b) => a & b);
        Filter deep = Filter.Eq("n", 1);
        for (var i = 0; i < 12_000; i++)
        {
            deep = new NotFilter(deep);
        }

        var renderer = new PgvectorFilterRenderer("payload", []);
        var parameters = new List<NpgsqlParameter>();
        var sql = renderer.Render(fold, parameters);

        Assert.Equal(24_000, parameters.Count);
        Assert.StartsWith("(COALESCE(", sql, StringComparison.Ordinal);
        Assert.Equal(11_999, sql.Split(" AND ").Length - 1);
        Assert.Throws<ArgumentException>(() => renderer.Render(deep, []));
    }

    [SkippableFact]
    public async Task A_dry_run_plan_for_a_name_with_a_line_break_and_escape_sequences_stays_inert_when_run_with_psql()
    {
        postgres.RequireServer();
        var victim = postgres.NewTableName("victim");
        await TestRows.ExecuteAsync(postgres.DataSource, $"CREATE TABLE \"{victim}\" (id int)");
        var hostile = $"d\nDROP TABLE {victim}; --\u001b]0;owned\u0007";
        var plan = string.Join("\n\n", new PgvectorMigrator(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = hostile, CreateTableIfMissing = false }).PlanUp());
        output.WriteLine(plan);

        Assert.DoesNotContain(plan, c => char.IsControl(c) && c != '\n');
        Assert.DoesNotContain(plan.Split('\n'), line => line.StartsWith("DROP TABLE", StringComparison.Ordinal));
        Assert.Contains("U&", plan, StringComparison.Ordinal);

        var file = Path.Combine(Path.GetTempPath(), victim + ".sql");
        await File.WriteAllTextAsync(file, plan);
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(postgres.ConnectionString);
            var start = new System.Diagnostics.ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "-h", connection.Host!, "-p", connection.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", connection.Username!, "-d", connection.Database!, "-f", file })
            {
                start.ArgumentList.Add(argument);
            }

            if (connection.Password is { } password)
            {
                start.Environment["PGPASSWORD"] = password;
            }

            using var psql = System.Diagnostics.Process.Start(start)!;
            var psqlOutput = await psql.StandardOutput.ReadToEndAsync() + await psql.StandardError.ReadToEndAsync();
            await psql.WaitForExitAsync();
            output.WriteLine(psqlOutput);

            Assert.Equal(1L, await CountCatalogAsync($"SELECT count(*) FROM pg_class WHERE relname = '{victim}'"));
        }
        finally
        {
            File.Delete(file);
            await TestRows.ExecuteAsync(postgres.DataSource, $"DROP TABLE IF EXISTS \"{victim}\"");
        }
    }

    [SkippableFact]
    public async Task The_store_factory_drops_its_collections_and_refuses_to_drop_any_other_table()
    {
        postgres.RequireServer();
        var (users, docs) = (postgres.NewTableName("users"), postgres.NewTableName("docs"));
        await TestRows.ExecuteAsync(postgres.DataSource, $"CREATE TABLE \"{users}\" (id bigint PRIMARY KEY, email text); INSERT INTO \"{users}\" VALUES (1, 'a@example.com')");
        var factory = new PgvectorAdaptiveStoreFactory(postgres.DataSource);
        await factory.GetStore<long>(docs, Layout).EnsureSchemaAsync();
        try
        {
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => factory.DeleteCollectionAsync(users));
            await factory.DeleteCollectionAsync(docs);
            await factory.DeleteCollectionAsync(docs);

            Assert.Contains($"public.{users}' is not a collection", error.Message, StringComparison.Ordinal);
            Assert.Equal(1L, await CountCatalogAsync($"SELECT count(*) FROM \"{users}\""));
            Assert.False(await factory.CollectionExistsAsync(docs));
        }
        finally
        {
            await TestRows.ExecuteAsync(postgres.DataSource, $"DROP TABLE IF EXISTS \"{users}\"; DROP TABLE IF EXISTS \"{docs}\"");
        }
    }
}
