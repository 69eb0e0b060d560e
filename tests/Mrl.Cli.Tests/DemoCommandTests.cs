using System.Globalization;
using System.Text.RegularExpressions;
using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

public sealed class DemoCommandTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _postgres;

    public DemoCommandTests(PostgresFixture postgres) => _postgres = postgres;

    private static double Recall(string output, string strategy, int oversampling)
    {
        var match = Regex.Match(output, $@"│ {Regex.Escape(strategy)}\s+│ {oversampling}\s+│ (?<recall>[0-9.]+)");
        Assert.True(match.Success, $"no row for {strategy} x{oversampling} in:\n{output}");
        return double.Parse(match.Groups["recall"].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Demo_prints_a_table_where_two_pass_beats_the_prefix_alone()
    {
        var (exitCode, output) = await CliRunner.RunAsync("demo", "--count", "3000", "--queries", "40");

        Assert.Equal(0, exitCode);
        Assert.Equal(1.0, Recall(output, "full", 1));
        Assert.True(Recall(output, "two-pass", 8) >= 0.97, output);
        Assert.True(Recall(output, "prefix", 1) < Recall(output, "two-pass", 8) - 0.2, output);
        Assert.DoesNotMatch(@"│ two-pass-db\s+│", output);
        Assert.Contains("memory: no two-pass-db: there is no database", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Demo_runs_on_postgres()
    {
        _postgres.RequireServer();
        var (exitCode, output) = await CliRunner.RunAsync("demo", "--count", "2000", "--queries", "20", "--dims", "256", "--postgres", _postgres.ConnectionString);

        Assert.Equal(0, exitCode);
        Assert.Contains("postgres (mrl_demo, dropped)", output, StringComparison.Ordinal);
        Assert.True(Recall(output, "two-pass", 8) >= 0.95, output);
        Assert.True(Recall(output, "two-pass-db", 8) >= 0.95, output);
        Assert.Matches(@"index \S+: [0-9.]+ MiB, built in [0-9.]+ s", output);

        // The demo leaves nothing behind: no table, no prefix functions.
        await using var leftovers = _postgres.DataSource.CreateCommand(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'mrl\\_demo%' UNION ALL SELECT count(*) FROM pg_proc WHERE proname LIKE 'mrl\\_demo%'");
        await using var reader = await leftovers.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Assert.Equal(0L, reader.GetInt64(0));
        }
    }

    [Fact]
    public async Task Migrate_postgres_offline_dry_run_prints_the_sql_without_connecting()
    {
        var (exitCode, output) = await CliRunner.RunAsync(
            "migrate", "postgres", "--connection", "Host=127.0.0.1;Port=1", "--table", "app.docs", "--dims", "1536", "--prefix", "256", "--dry-run", "--offline");

        Assert.Equal(0, exitCode);
        Assert.Contains("-- offline: nothing was checked", output, StringComparison.Ordinal);
        Assert.Contains("ALTER TABLE \"app\".\"docs\" ADD COLUMN IF NOT EXISTS \"embedding_prefix\" \"public\".halfvec(256)", output, StringComparison.Ordinal);
        Assert.Contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_postgres_dry_run_connects_and_says_so_when_it_cannot()
    {
        var (exitCode, output) = await CliRunner.RunAsync(
            "migrate", "postgres", "--connection", "Host=127.0.0.1;Port=1;Timeout=2", "--table", "app.docs", "--dims", "1536", "--prefix", "256", "--dry-run");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("error:", output.TrimStart(), StringComparison.Ordinal);
        Assert.DoesNotContain("ALTER TABLE", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_qdrant_without_a_server_fails_with_one_line_naming_it()
    {
        var (exitCode, output) = await CliRunner.RunAsync(
            "migrate", "qdrant", "--url", "http://127.0.0.1:1", "--api-key", "secret-key-123", "--collection", "docs", "--dims", "768", "--prefix", "128", "--dry-run");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("error: Qdrant HealthCheck on 'docs' failed with Unavailable", output, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-key-123", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_arguments_give_a_clear_error_and_a_non_zero_exit_code()
    {
        var (exitCode, output) = await CliRunner.RunAsync("demo", "--prefix", "900");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Prefix dimensions must be at least 1 and at most the full dimensions (768)", output, StringComparison.Ordinal);
    }
}
