using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Mrl.Bench.Synthetic;
using Npgsql;
using Xunit.Abstractions;

namespace Mrl.Cli.Tests;

/// <summary>
/// A LangChain table from end to end with the CLI: each collection tuned on its own rows, migrated with the prefix tune
/// picked, and searched at the oversampling tune picked.
/// </summary>
public sealed class LangChainTuneTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-langchain-tune-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task ExecuteAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    [SkippableFact]
    public async Task Each_collection_of_a_langchain_table_tuned_for_0_99_meets_it_against_brute_force_sql_at_the_oversampling_tune_picks()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("langchain_pg_embedding");
        // langchain_community's PGVector layout: every collection in one table, an untyped vector column, json metadata.
        await ExecuteAsync($"CREATE TABLE {table} (uuid uuid PRIMARY KEY, collection_id uuid, embedding vector, document varchar, cmetadata json, custom_id varchar)");
        var collections = new[] { (Id: Guid.NewGuid(), Dims: 96, Rows: 1_000), (Id: Guid.NewGuid(), Dims: 48, Rows: 600) };
        foreach (var (id, dims, rows) in collections)
        {
            var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dims, Clusters = 20, Seed = dims }).Generate(rows);
            var values = Enumerable.Range(0, rows).Select(i =>
                $"(gen_random_uuid(), '{id}', '{LangChainTables.Literal(data.AsSpan(i * dims, dims))}', 'doc {i}', '{{\"n\": {i}}}')");
            await ExecuteAsync($"INSERT INTO {table} (uuid, collection_id, embedding, document, cmetadata) VALUES {string.Join(", ", values)}");
        }

        foreach (var (id, dims, rows) in collections)
        {
            var path = Path.Combine(_directory, $"profile-{dims}.json");
            var tune = await CliRunner.RunAsync(
                "tune", "--source-table", table, "--key-column", "uuid", "--scope-column", "collection_id", "--scope-value", id.ToString(),
                "--connection", postgres.ConnectionString, "--backend", "postgres", "--queries", "100", "--strategies", "two-pass,two-pass-db",
                "--prefix-dims", $"{dims / 4},{dims / 2}", "--oversampling", "4,8,16,32", "--ef-search", "40,160",
                "--target-recall", "0.99", "--truth-cache", "none", "--out", path);
            Assert.True(tune.ExitCode == 0, tune.Output);
            // Only this collection's rows are read: the other's, of another size, would fail the read.
            Assert.Contains("(collection_id =", tune.Output, StringComparison.Ordinal);
            Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"{rows - 100:N0} x {dims}, 100 queries held out"), tune.Output, StringComparison.Ordinal);

            var profile = SearchProfile.Load(path);
            Assert.Equal(dims, profile.FullDimensions);
            Assert.NotEqual(SearchStrategy.FullDimension, profile.Strategy);
            Assert.True(profile.MeasuredRecall >= 0.99, tune.Output);
            output.WriteLine($"collection of {dims} dimensions: tune picked prefix {profile.PrefixDimensions}, oversampling {profile.Oversampling}, " +
                             $"ef_search {profile.EfSearch}, {profile.Strategy}");

            var prefixColumn = $"embedding_p{dims}";
            var migrate = await CliRunner.RunAsync(
                "migrate", "postgres", "-c", postgres.ConnectionString, "--table", table, "--key-column", "uuid",
                "--prefix", profile.PrefixDimensions.ToString(CultureInfo.InvariantCulture), "--prefix-column", prefixColumn,
                "--scope-column", "collection_id", "--scope-value", id.ToString());
            Assert.True(migrate.ExitCode == 0, migrate.Output);

            var options = new PgvectorStoreOptions
            {
                Table = table, KeyColumn = "uuid", PayloadColumn = "cmetadata", PrefixColumn = prefixColumn, CreateTableIfMissing = false,
                ScopeColumn = "collection_id", ScopeValue = id.ToString(),
            };
            await using var store = new PgvectorAdaptiveStore<Guid>(postgres.DataSource, profile.ToLayout(), options);
            await store.EnsureSchemaAsync();
            Assert.Equal(rows, await store.CountAsync());

            var queries = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dims, Clusters = 20, Seed = dims }).Generate(20, stream: 1);
            var (found, exactQueries) = (0, 0);
            for (var q = 0; q < 20; q++)
            {
                var query = queries.AsMemory(q * dims, dims);
                var hits = (await store.SearchAsync(query, profile.ToSearchOptions())).Hits.Select(h => h.Key).ToArray();
                var exact = await BruteForceAsync(table, id, dims, query);
                Assert.Equal(10, exact.Length);
                found += hits.Intersect(exact).Count();
                exactQueries += hits.Order().SequenceEqual(exact.Order()) ? 1 : 0;
            }

            // Tune promises the target recall, not every query: 0.99 of the 200 true neighbours, measured on other queries.
            output.WriteLine($"  {exactQueries} of 20 queries returned the exact top-10; recall@10 {found / 200.0:F3}");
            Assert.True(found / 200.0 >= profile.TargetRecall, $"recall@10 {found / 200.0:F3}, {exactQueries} of 20 exact");
        }
    }

    private Task<Guid[]> BruteForceAsync(string table, Guid collection, int dims, ReadOnlyMemory<float> query) =>
        LangChainTables.BruteForceTop10Async(postgres.DataSource, table, collection, dims, query);
}
