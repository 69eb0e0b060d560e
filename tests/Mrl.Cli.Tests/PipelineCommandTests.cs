using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

public sealed class PipelineCommandTests : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly PostgresFixture _postgres;
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-cli-").FullName;
    private readonly string _model;
    private readonly string _input;

    public PipelineCommandTests(PostgresFixture postgres)
    {
        _postgres = postgres;
        _model = TestRepository.FixtureModel("base");
        _input = Path.Combine(_directory, "docs.jsonl");
        File.WriteAllLines(_input,
        [
            """{"id": "cat", "text": "The cat sat on the mat.", "lang": "en"}""",
            """{"id": "dog", "text": "A dog barked at the mailman.", "lang": "en"}""",
            """{"id": 3, "text": "Stock markets fell sharply today."}""",
        ]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Embed_prints_the_dimensions_and_the_first_values()
    {
        var (exitCode, output) = await CliRunner.RunAsync("embed", "--model", _model, "--dims", "16", "hello world");
        Assert.Equal(0, exitCode);
        Assert.Matches(@"hello world\s+│ 16\s+│ -?0\.\d{4}, ", output);
    }

    [Fact]
    public async Task Embed_shows_the_task_adapters_of_a_model_with_a_task_id_input_and_takes_another_by_name()
    {
        var model = TestRepository.FixtureModel("jina-task");

        var (exitCode, output) = await CliRunner.RunAsync("embed", "--model", model, "--query-task", "text-matching", "--query", "hello world");

        Assert.Equal(0, exitCode);
        Assert.Contains("text-matching (task_id 4)", output, StringComparison.Ordinal);
        Assert.Contains("retrieval.passage (task_id", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_then_search_finds_a_document_by_its_own_text_in_memory()
    {
        var store = Path.Combine(_directory, "index.bin");
        var (indexed, indexOutput) = await CliRunner.RunAsync("index", "--model", _model, "--input", _input, "--prefix", "16", "--store", store);
        Assert.Equal(0, indexed);
        Assert.Contains("Indexed 3 documents (Cosine 64d, prefix 16d)", indexOutput, StringComparison.Ordinal);

        var (searched, output) = await CliRunner.RunAsync("search", "--model", _model, "A dog barked at the mailman.", "--k", "2", "--store", store);
        Assert.Equal(0, searched);
        Assert.Matches(@"│ 1 │ dog\s+│ 1\.0000 │", output);
        Assert.Contains("two-pass: 3 candidates", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_index_file_is_private_and_a_truncated_one_fails_search_with_one_line_naming_it()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes only");
        var store = Path.Combine(_directory, "private.bin");
        var (indexed, indexOutput) = await CliRunner.RunAsync("index", "--model", _model, "--input", _input, "--prefix", "16", "--store", store);
        Assert.True(indexed == 0, indexOutput);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store));

        var bytes = await File.ReadAllBytesAsync(store);
        await File.WriteAllBytesAsync(store, bytes[..(bytes.Length - 10)]);
        var (searched, output) = await CliRunner.RunAsync("search", "--model", _model, "a dog", "--store", store);

        Assert.Equal(1, searched);
        Assert.Contains($"error: The snapshot '{store}' is truncated or corrupt", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_prints_stored_ids_and_texts_with_their_escape_sequences_escaped()
    {
        var input = Path.Combine(_directory, "hostile.jsonl");
        await File.WriteAllLinesAsync(input,
        [
            """{"id": "\u001b[2J\u001b]0;title\u0007", "text": "clipboard \u001b]52;c;ZXZpbA==\u0007 and a \u009b31m C1 escape"}""",
        ]);
        var store = Path.Combine(_directory, "hostile.bin");
        var (indexed, indexOutput) = await CliRunner.RunAsync("index", "--model", _model, "--input", input, "--prefix", "16", "--store", store);
        Assert.True(indexed == 0, indexOutput);

        var (searched, output) = await CliRunner.RunAsync("search", "--model", _model, "clipboard", "--k", "1", "--store", store);

        Assert.True(searched == 0, output);
        Assert.DoesNotContain('\u001b', output);
        Assert.DoesNotContain('\u0007', output);
        Assert.DoesNotContain('\u009b', output);
        Assert.Contains("\\u001B]52;c;ZXZpbA==\\u0007", output, StringComparison.Ordinal);
        Assert.Contains("\\u001B[2J", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Index_then_search_works_on_postgres()
    {
        _postgres.RequireServer();
        var table = _postgres.NewTableName("cli");
        var (indexed, _) = await CliRunner.RunAsync("index", "--model", _model, "--input", _input, "--prefix", "16", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.Equal(0, indexed);

        var (searched, output) = await CliRunner.RunAsync(
            "search", "--model", _model, "The cat sat on the mat.", "--k", "1", "--prefix", "16", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.Equal(0, searched);
        Assert.Matches(@"│ 1 │ cat\s+│ 1\.0000 │", output);
    }

    [SkippableFact]
    public async Task Search_on_postgres_reads_the_prefix_and_dimensions_the_table_records()
    {
        _postgres.RequireServer();
        var table = _postgres.NewTableName("cli");
        var (indexed, _) = await CliRunner.RunAsync("index", "--model", _model, "--input", _input, "--dims", "48", "--prefix", "16", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.Equal(0, indexed);

        var (searched, output) = await CliRunner.RunAsync("search", "--model", _model, "The cat sat on the mat.", "--k", "1", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.Equal(0, searched);
        Assert.Matches(@"│ 1 │ cat\s+│ 1\.0000 │", output);
        Assert.Contains("(Cosine 48d, prefix 16d)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Index_rejects_a_line_without_text_and_writes_nothing()
    {
        var bad = Path.Combine(_directory, "bad.jsonl");
        await File.WriteAllLinesAsync(bad, ["""{"id": "a", "text": "fine"}""", """{"id": "b"}"""]);
        var store = Path.Combine(_directory, "bad.bin");
        var (exitCode, output) = await CliRunner.RunAsync("index", "--model", _model, "--input", bad, "--prefix", "16", "--store", store);

        Assert.Equal(1, exitCode);
        Assert.Contains("line 2: expected an object with \"id\"", output, StringComparison.Ordinal);
        Assert.False(File.Exists(store));
    }
}
