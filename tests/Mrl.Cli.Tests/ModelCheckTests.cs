using Mrl.Adapters.InMemory;
using Mrl.Adapters.Testing;

namespace Mrl.Cli.Tests;

public sealed class ModelCheckTests : IClassFixture<PostgresFixture>, IDisposable
{
    private readonly PostgresFixture _postgres;
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-model-").FullName;
    private readonly string _base;
    private readonly string _pooled;
    private readonly string _input;

    public ModelCheckTests(PostgresFixture postgres)
    {
        _postgres = postgres;
        _base = TestRepository.FixtureModel("base");
        _pooled = TestRepository.FixtureModel("pooled");
        _input = Path.Combine(_directory, "docs.jsonl");
        File.WriteAllLines(_input,
        [
            """{"id": "cat", "text": "The cat sat on the mat."}""",
            """{"id": "dog", "text": "A dog barked at the mailman."}""",
        ]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<string> IndexAsync(string name)
    {
        var store = Path.Combine(_directory, name);
        var (exitCode, output) = await CliRunner.RunAsync("index", "--model", _base, "--input", _input, "--prefix", "16", "--store", store);
        Assert.True(exitCode == 0, output);
        return store;
    }

    [Fact]
    public async Task Search_with_the_model_that_built_the_index_prints_nothing_on_stderr()
    {
        var store = await IndexAsync("same.bin");

        var (exitCode, output, error) = await CliRunner.RunSeparatelyAsync("search", "--model", _base, "A dog barked at the mailman.", "--k", "1", "--store", store);

        Assert.True(exitCode == 0, output + error);
        Assert.Matches(@"│ 1 │ dog\s+│ 1\.0000 │", output);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task Search_with_another_model_warns_on_stderr_naming_both_and_still_searches()
    {
        var store = await IndexAsync("other.bin");

        var (exitCode, output, error) = await CliRunner.RunSeparatelyAsync("search", "--model", _pooled, "A dog barked at the mailman.", "--k", "1", "--store", store);

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("│ 1 │", output, StringComparison.Ordinal);
        Assert.StartsWith("warning: the index was built with the model 'base' (fingerprint ", error, StringComparison.Ordinal);
        Assert.Contains("but this run embeds with 'pooled' (fingerprint ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("warning", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_with_the_same_model_but_another_pooling_warns_about_the_pooling()
    {
        var store = await IndexAsync("pooling.bin");

        var (exitCode, output, error) = await CliRunner.RunSeparatelyAsync("search", "--model", _base, "--pooling", "Cls", "a dog", "--k", "1", "--store", store);

        Assert.True(exitCode == 0, output + error);
        Assert.Equal("warning: the index's documents were embedded with pooling \"Mean\", this run uses \"Cls\": results may be worse than they should be.", error.Trim());
    }

    [Fact]
    public async Task Search_over_an_index_without_a_recorded_model_says_once_that_it_cannot_check()
    {
        var store = await IndexAsync("old.bin");
        await using (var file = File.Open(store, FileMode.Open, FileAccess.ReadWrite))
        {
            // What `mrl index` wrote before it recorded models: the same records, no metadata.
            using var loaded = await InMemorySnapshot.LoadAsync<string>(file);
            file.SetLength(0);
            await InMemorySnapshot.SaveAsync(loaded, file);
        }

        var (exitCode, output, error) = await CliRunner.RunSeparatelyAsync("search", "--model", _pooled, "a dog", "--k", "1", "--store", store);

        Assert.True(exitCode == 0, output + error);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("note: the index records no model", line, StringComparison.Ordinal);
        Assert.Contains("cannot check", line, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task On_postgres_the_model_is_recorded_on_the_prefix_column_and_another_model_warns()
    {
        _postgres.RequireServer();
        var table = _postgres.NewTableName("model");
        var (indexed, indexOutput) = await CliRunner.RunAsync("index", "--model", _base, "--input", _input, "--prefix", "16", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.True(indexed == 0, indexOutput);

        var (same, sameOutput, sameError) = await CliRunner.RunSeparatelyAsync("search", "--model", _base, "a cat", "--k", "1", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.True(same == 0, sameOutput + sameError);
        Assert.Equal("", sameError);

        var (other, otherOutput, otherError) = await CliRunner.RunSeparatelyAsync("search", "--model", _pooled, "a cat", "--k", "1", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.True(other == 0, otherOutput + otherError);
        Assert.Contains("the model 'base' (fingerprint ", otherError, StringComparison.Ordinal);
        Assert.Contains("embeds with 'pooled' (fingerprint ", otherError, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task On_postgres_a_comment_of_someone_else_is_kept_and_search_says_it_cannot_check()
    {
        _postgres.RequireServer();
        var table = _postgres.NewTableName("model");
        var (first, firstOutput) = await CliRunner.RunAsync("index", "--model", _base, "--input", _input, "--prefix", "16", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.True(first == 0, firstOutput);
        await using (var comment = _postgres.DataSource.CreateCommand($"COMMENT ON COLUMN \"{table}\".embedding_prefix IS 'owned by the reporting team'"))
        {
            await comment.ExecuteNonQueryAsync();
        }

        var (indexed, indexOutput, indexError) = await CliRunner.RunSeparatelyAsync(
            "index", "--model", _base, "--input", _input, "--prefix", "16", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.True(indexed == 0, indexOutput + indexError);
        Assert.Contains("note: the model was not recorded", indexError, StringComparison.Ordinal);

        await using (var read = _postgres.DataSource.CreateCommand($"SELECT col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = '\"{table}\"'::regclass AND attname = 'embedding_prefix'"))
        {
            Assert.Equal("owned by the reporting team", await read.ExecuteScalarAsync());
        }

        var (searched, output, error) = await CliRunner.RunSeparatelyAsync("search", "--model", _base, "a cat", "--k", "1", "--postgres", _postgres.ConnectionString, "--table", table);
        Assert.True(searched == 0, output + error);
        Assert.StartsWith("note: the index records no model", error, StringComparison.Ordinal);
    }
}
