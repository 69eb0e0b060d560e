using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

public sealed class TraceOptionTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _postgres;

    public TraceOptionTests(PostgresFixture postgres) => _postgres = postgres;

    [Fact]
    public async Task Demo_with_trace_prints_a_search_span_tree_and_the_per_stage_measurements()
    {
        var (exitCode, output) = await CliRunner.RunAsync("demo", "--count", "1000", "--queries", "5", "--dims", "64", "--prefix", "16", "--trace");

        Assert.Equal(0, exitCode);
        Assert.Contains("spans (ActivitySource Mrl.Adapters", output, StringComparison.Ordinal);
        Assert.Contains("── mrl.pass1", output, StringComparison.Ordinal);
        Assert.Contains("── mrl.pass2", output, StringComparison.Ordinal);
        Assert.Contains("mrl.strategy=two-pass", output, StringComparison.Ordinal);
        Assert.Contains("mrl.search.pass2.duration", output, StringComparison.Ordinal);
        Assert.Contains("mrl.records.written", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_with_trace_prints_the_per_stage_measurements_of_the_whole_run()
    {
        var (exitCode, output) = await CliRunner.RunAsync(
            "bench", "--count", "1000", "--dims", "64", "--queries", "10", "--prefix-dims", "16", "--clients", "1", "--bandwidth-mib", "0", "--strategies", "two-pass", "--trace");

        Assert.Equal(0, exitCode);
        Assert.Contains("── mrl.pass2", output, StringComparison.Ordinal);
        Assert.Contains("mrl.search.pass1.duration [two-pass]", output, StringComparison.Ordinal);
        Assert.Contains("mrl.search.bytes_fetched [two-pass]", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Demo_on_postgres_with_trace_shows_the_migration_steps()
    {
        _postgres.RequireServer();

        var (exitCode, output) = await CliRunner.RunAsync(
            "demo", "--count", "500", "--queries", "5", "--dims", "64", "--prefix", "16", "--postgres", _postgres.ConnectionString, "--trace");

        Assert.Equal(0, exitCode);
        Assert.Contains("create-table mrl_demo", output, StringComparison.Ordinal);
        Assert.Contains("index mrl_demo", output, StringComparison.Ordinal);
        Assert.Contains("postgresql", output, StringComparison.Ordinal);
        Assert.Contains("── mrl.pass1", output, StringComparison.Ordinal);
    }
}
