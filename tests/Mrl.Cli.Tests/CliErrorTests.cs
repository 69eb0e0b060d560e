using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

/// <summary>Expected failures as one line in the command line's terms: options, files with line and column, no C# names.</summary>
public sealed class CliErrorTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-errors-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string FixtureModel() => TestRepository.FixtureModel("base");

    private string Documents(params string[] lines)
    {
        var path = Path.Combine(_directory, "docs.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public async Task A_prefix_longer_than_the_vectors_names_the_option_not_the_parameter()
    {
        var input = Documents("""{"id": "a", "text": "The cat sat on the mat."}""");

        var (exitCode, output) = await CliRunner.RunAsync("index", "--model", FixtureModel(), "--input", input, "--prefix", "640", "--store", Path.Combine(_directory, "i.bin"));

        Assert.Equal(1, exitCode);
        Assert.Contains("error: --prefix: Prefix dimensions must be at least 1 and at most the full dimensions (64), got 640.", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Parameter", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Actual value", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--reuse-table", null, "--reuse-table and --db-memory-limit apply to the PostgreSQL table; add postgres to --backend.")]
    [InlineData("--db-memory-limit", "2G", "--db-memory-limit: '2G' is not a memory size; write a number and kB, MB, GB or TB, as PostgreSQL does (e.g. 2GB, 1536MB).")]
    public async Task Bench_options_for_the_postgresql_table_name_what_is_wrong_before_any_data_is_made(string option, string? value, string message)
    {
        string[] arguments = value is null
            ? ["bench", "--count", "100", "--dims", "16", "--queries", "5", option]
            : ["bench", "--backend", "postgres", "--connection", "Host=127.0.0.1", "--count", "100", "--dims", "16", "--queries", "5", option, value];

        var (exitCode, output) = await CliRunner.RunAsync(arguments);

        Assert.Equal(1, exitCode);
        Assert.Contains("error: " + message, output, StringComparison.Ordinal);
        Assert.DoesNotContain("Generating", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_json_lines_file_is_named_with_its_line_and_column()
    {
        var input = Documents("""{"id": "a", "text": "x"}""", """{"id": "b" "text": "y"}""");

        var (exitCode, output) = await CliRunner.RunAsync("index", "--model", FixtureModel(), "--input", input, "--prefix", "16", "--store", Path.Combine(_directory, "i.bin"));

        Assert.Equal(1, exitCode);
        Assert.Contains($"error: {input}, line 2, column 12: not JSON", output, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_profile_is_named_with_its_line_and_column()
    {
        var profile = Path.Combine(_directory, "profile.json");
        await File.WriteAllTextAsync(profile, "{\n  \"fullDimensions\": 64\n  \"prefixDimensions\": 16\n}\n");

        var (exitCode, output) = await CliRunner.RunAsync("search", "--model", FixtureModel(), "cat", "--store", Path.Combine(_directory, "none.bin"), "--profile", profile);

        Assert.Equal(1, exitCode);
        Assert.Contains($"is not a search profile: '\"' is invalid after a value. Expected either ',', '}}', or ']'. (line 3, column 3)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_given_as_its_onnx_file_works_and_a_missing_one_is_named()
    {
        var input = Documents("""{"id": "a", "text": "The cat sat on the mat."}""");
        var store = Path.Combine(_directory, "i.bin");

        var file = await CliRunner.RunAsync("index", "--model", Path.Combine(FixtureModel(), "model.onnx"), "--input", input, "--prefix", "16", "--store", store);
        var missing = await CliRunner.RunAsync("search", "--model", Path.Combine(_directory, "nowhere"), "cat", "--store", store);

        Assert.True(file.ExitCode == 0, file.Output);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains($"error: --model: there is no folder or file {Path.Combine(_directory, "nowhere")};", missing.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_without_out_says_that_nothing_was_written()
    {
        var (exitCode, output) = await CliRunner.RunAsync(
            "bench", "--count", "400", "--dims", "32", "--queries", "10", "--prefix-dims", "8", "--oversampling", "2", "--clients", "1",
            "--truth-cache", "none", "--bandwidth-mib", "0");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Nothing was written: add --out DIR to save results.json", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bench_in_a_log_prints_a_narrow_summary_that_fits_80_columns_and_points_to_results_md()
    {
        var folder = Path.Combine(_directory, "results");
        var (exitCode, output) = await CliRunner.RunAsync(
            "bench", "--count", "400", "--dims", "32", "--queries", "10", "--prefix-dims", "8", "--oversampling", "2", "--clients", "2",
            "--truth-cache", "none", "--bandwidth-mib", "0", "--out", folder);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Rows with 1 client(s); the whole table is", output, StringComparison.Ordinal);
        Assert.Contains("every row and column is in results.md.", output.Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("p95 ms", output, StringComparison.Ordinal);
        Assert.DoesNotContain("KiB/query", output, StringComparison.Ordinal);
        Assert.All(output.Split('\n'), line => Assert.True(line.TrimEnd().Length <= 80, line));
        Assert.Contains("KiB fetched/query", await File.ReadAllTextAsync(Path.Combine(folder, "results.md")), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_missing_table_is_explained_with_options_not_a_csharp_property()
    {
        postgres.RequireServer();

        var (exitCode, output) = await CliRunner.RunAsync(
            "search", "--model", FixtureModel(), "cat", "--postgres", postgres.ConnectionString, "--table", "no_such_table", "--dims", "64", "--prefix", "16");

        Assert.Equal(1, exitCode);
        Assert.Contains("does not exist. Check --table (name or schema.name)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("CreateTableIfMissing", output, StringComparison.Ordinal);
    }
}
