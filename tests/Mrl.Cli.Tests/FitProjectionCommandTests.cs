using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Mrl.Bench.Synthetic;
using Npgsql;

namespace Mrl.Cli.Tests;

/// <summary><c>mrl fit-projection</c> on a table another tool made, holding embeddings of a model without a Matryoshka loss.</summary>
public sealed class FitProjectionCommandTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int Dimensions = 96;
    private const int KeyDimensions = 24;
    private const int Rows = 3_000;

    [SkippableFact]
    public async Task Fit_projection_migrates_a_rotated_table_so_two_pass_search_finds_the_exact_top_10_and_the_dry_run_changes_nothing()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("fitproj");
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 11 }).Generate(Rows);
        await ExecuteAsync($"CREATE TABLE public.\"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL, body text)");
        for (var first = 0; first < Rows; first += 500)
        {
            var values = Enumerable.Range(first, 500).Select(i =>
                $"({i}, '[{string.Join(',', data.AsSpan(i * Dimensions, Dimensions).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]', 'doc {i}')");
            await ExecuteAsync($"INSERT INTO public.\"{table}\" (id, embedding, body) VALUES {string.Join(',', values)}");
        }

        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false, PayloadColumn = null };
        string[] common = ["fit-projection", "-c", postgres.ConnectionString, "--table", table, "--prefix", KeyDimensions.ToString(CultureInfo.InvariantCulture), "--sample", "2000"];

        var dryRun = await CliRunner.RunAsync([.. common, "--dry-run"]);
        Assert.True(dryRun.ExitCode == 0, dryRun.Output);
        Assert.Contains("-- fitted projection v1 24×96", dryRun.Output, StringComparison.Ordinal);
        Assert.Contains("_projection", dryRun.Output, StringComparison.Ordinal);
        Assert.Contains("CREATE INDEX CONCURRENTLY", dryRun.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.\"{table}\"'::regclass AND attname = 'embedding_prefix'"));
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_class WHERE relname LIKE '{table}%projection'"));
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.\"{table}\"'::regclass"));

        var run = await CliRunner.RunAsync(common);
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(run.Output.Contains("to projected key version 1", StringComparison.Ordinal), run.Output);
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM public.\"{table}\" WHERE embedding_prefix IS NULL"));

        var again = await CliRunner.RunAsync(common);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("has projection version 1 already", again.Output, StringComparison.Ordinal);
        Assert.True(again.Output.Contains("Already migrated", StringComparison.Ordinal), again.Output);

        // The application passes no matrix: the layout, projection included, comes from the table.
        var layout = await PgvectorMigrator.ReadLayoutAsync(postgres.DataSource, options);
        Assert.Equal(PrefixKind.Projection, layout.PrefixKind);
        Assert.Equal(1, layout.Projection!.Version);
        await using var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, layout, options);
        var truncated = new EmbeddingLayout(Dimensions, KeyDimensions);
        var found = 0;
        var foundByTruncation = 0;
        const int Queries = 20;
        for (var q = 0; q < Queries; q++)
        {
            var query = data.AsMemory(q * 149 * Dimensions, Dimensions);
            var twoPass = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 8, EfSearch = 400 });
            var exact = ExactTop10(data, query.Span);
            found += twoPass.Hits.Count(h => exact.Contains(h.Key));
            foundByTruncation += TruncatedTop80(data, truncated, query.Span).Count(exact.Contains);
        }

        Assert.True(found == Queries * 10, $"two-pass found {found} of {Queries * 10}, truncation {foundByTruncation}");
        // The same oversampling over the first 16 values misses neighbours: the projection is what finds them.
        Assert.True(foundByTruncation < Queries * 9, $"truncation found {foundByTruncation} of {Queries * 10}");
        NpgsqlConnection.ClearAllPools();
    }

    [SkippableFact]
    public async Task Fit_projection_refit_switches_a_drifted_table_to_a_new_version_once_and_its_dry_run_and_a_wrong_size_change_nothing()
    {
        postgres.RequireServer();
        const int TableRows = 1_500;
        var table = postgres.NewTableName("refitcli");
        var before = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 11 }).Generate(TableRows);
        var after = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 13 }).Generate(TableRows);
        await ExecuteAsync($"CREATE TABLE public.\"{table}\" (id bigint PRIMARY KEY, embedding vector({Dimensions}) NOT NULL)");
        for (var first = 0; first < TableRows; first += 500)
        {
            await ExecuteAsync($"INSERT INTO public.\"{table}\" (id, embedding) VALUES {string.Join(',', Enumerable.Range(first, 500).Select(i => $"({i}, '{Literal(before, i)}')"))}");
        }

        var options = new PgvectorStoreOptions { Table = table, CreateTableIfMissing = false, PayloadColumn = null };
        string[] common = ["fit-projection", "-c", postgres.ConnectionString, "--table", table, "--prefix", KeyDimensions.ToString(CultureInfo.InvariantCulture)];
        var fit = await CliRunner.RunAsync(common);
        Assert.True(fit.ExitCode == 0, fit.Output);

        // The data drifts: every vector moves to another distribution, whose information the key of version 1 misses.
        for (var first = 0; first < TableRows; first += 500)
        {
            var values = string.Join(',', Enumerable.Range(first, 500).Select(i => $"({i}, '{Literal(after, i)}')"));
            await ExecuteAsync($"UPDATE public.\"{table}\" AS t SET embedding = CAST(v.e AS vector) FROM (VALUES {values}) AS v(id, e) WHERE t.id = v.id");
        }

        var dryRun = await CliRunner.RunAsync([.. common, "--refit", "--dry-run"]);
        Assert.True(dryRun.ExitCode == 0, dryRun.Output);
        Assert.Contains("would fit projection version 2 and switch to it from version 1", dryRun.Output, StringComparison.Ordinal);
        Assert.Contains("RENAME COLUMN \"embedding_prefix_v2\" TO \"embedding_prefix\"", dryRun.Output, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync(
            "SELECT (xpath('/row/c/text()', query_to_xml(format('SELECT count(DISTINCT version) AS c FROM public.%I', relname), false, true, '')))[1]::text::bigint " +
            $"FROM pg_class WHERE relname LIKE '{table}%projection'"));
        Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.\"{table}\"'::regclass AND NOT tgisinternal"));
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.\"{table}\"'::regclass AND attname = 'embedding_prefix_v2'"));

        var wrongSize = await CliRunner.RunAsync(["fit-projection", "-c", postgres.ConnectionString, "--table", table, "--prefix", "32", "--refit"]);
        Assert.NotEqual(0, wrongSize.ExitCode);
        Assert.Contains("this refit asks for 32", wrongSize.Output, StringComparison.Ordinal);
        Assert.Contains("--resize", wrongSize.Output, StringComparison.Ordinal);

        var refit = await CliRunner.RunAsync([.. common, "--refit"]);
        Assert.True(refit.ExitCode == 0, refit.Output);
        Assert.True(refit.Output.Contains("Refitted", StringComparison.Ordinal) && refit.Output.Contains("projection version 2", StringComparison.Ordinal), refit.Output);
        var layout = await PgvectorMigrator.ReadLayoutAsync(postgres.DataSource, options);
        Assert.Equal(2, layout.Projection!.Version);
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.\"{table}\"'::regclass AND attname LIKE 'embedding_prefix_v%' AND NOT attisdropped"));

        var again = await CliRunner.RunAsync([.. common, "--refit"]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.True(again.Output.Contains("Nothing to refit", StringComparison.Ordinal), again.Output);
        Assert.Equal(2, (await PgvectorMigrator.ReadProjectionAsync(postgres.DataSource, options))!.Version);
        NpgsqlConnection.ClearAllPools();
    }

    private static string Literal(float[] data, int row) =>
        "[" + string.Join(',', data.AsSpan(row * Dimensions, Dimensions).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";

    private static long[] ExactTop10(float[] data, ReadOnlySpan<float> query)
    {
        var scores = new (float Score, long Id)[Rows];
        for (var i = 0; i < Rows; i++)
        {
            scores[i] = (VectorMath.Score(DistanceMetric.Cosine, query, data.AsSpan(i * Dimensions, Dimensions)), i);
        }

        return scores.OrderByDescending(s => s.Score).Take(10).Select(s => s.Id).ToArray();
    }

    private static long[] TruncatedTop80(float[] data, EmbeddingLayout layout, ReadOnlySpan<float> query)
    {
        var key = layout.ToPrefix(query);
        var scores = new (float Score, long Id)[Rows];
        for (var i = 0; i < Rows; i++)
        {
            scores[i] = (VectorMath.Score(DistanceMetric.Cosine, key, layout.ToPrefix(data.AsSpan(i * Dimensions, Dimensions))), i);
        }

        return scores.OrderByDescending(s => s.Score).Take(80).Select(s => s.Id).ToArray();
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
