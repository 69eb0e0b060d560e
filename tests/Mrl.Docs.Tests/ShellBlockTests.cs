using System.Diagnostics;
using Mrl.Adapters.Testing;
using Npgsql;

namespace Mrl.Docs.Tests;

/// <summary>
/// Every bash block of README.md and docs/*.md runs as printed, with <c>set -euo pipefail</c>, in a fresh folder that
/// sees the repository's <c>tests/</c> (for the fixture models), with <c>mrl</c> on the PATH and <c>$CONN</c> a
/// throwaway PostgreSQL database. A <c>setup:</c> note prepares what the commands expect (<c>documents-table</c>: an
/// application table of 1,536-d vectors; <c>fixture-index</c>: an <c>mrl index</c> of three texts); a block that
/// cannot run here carries a <c>not run:</c> note, reported as the skip reason.
/// </summary>
public sealed class ShellBlockTests : IClassFixture<PostgresFixture>
{
    private readonly PostgresFixture _postgres;

    public ShellBlockTests(PostgresFixture postgres) => _postgres = postgres;

    public static IEnumerable<object[]> Blocks => MarkdownBlock.Ids("bash");

    [SkippableTheory]
    [MemberData(nameof(Blocks))]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_commands_run_as_printed(string id)
    {
        var block = MarkdownBlock.Find(id);
        var reason = block.Note("not run");
        Skip.If(reason is not null, $"{id}: {reason}");
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "the blocks are bash");
        Skip.If(block.File is "docs/qdrant.md" or "docs/vectordata.md", $"{block.File} is being rewritten with its library; its commands join this test with docs-test notes");
        _postgres.RequireServer();

        var directory = Directory.CreateTempSubdirectory("mrl-docs-").FullName;
        var name = "docs_" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            Directory.CreateSymbolicLink(Path.Combine(directory, "tests"), Path.Combine(TestRepository.Root, "tests"));
            var bin = Directory.CreateDirectory(Path.Combine(directory, ".bin")).FullName;
            var mrl = Path.Combine(bin, "mrl");
            await File.WriteAllTextAsync(mrl, $"#!/bin/sh\nexec dotnet \"{Path.Combine(AppContext.BaseDirectory, "mrl.dll")}\" \"$@\"\n");
            File.SetUnixFileMode(mrl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var database = await CreateDatabaseAsync(name, id);
            var setup = block.Note("setup") switch
            {
                null => "",
                "documents-table" => await CreateDocumentsTableAsync(database),
                "fixture-index" => FixtureIndex,
                var other => throw new InvalidOperationException($"{id}: unknown docs-test setup '{other}'"),
            };

            var (exitCode, output) = await RunBashAsync(directory, bin, database, setup + block.Text);
            Assert.True(exitCode == 0, $"{id} failed with exit code {exitCode}:\n{block.Text}\n--- output ---\n{output}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
            await AdminAsync($"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        }
    }

    [Fact]
    public void Every_skipped_block_says_why() =>
        Assert.All(MarkdownBlock.All.Where(b => b.Language == "bash" && b.Note("not run") is not null), b => Assert.True(b.Note("not run")!.Length > 10, b.Id));

    private const string FixtureIndex = """
        printf '%s\n' '{"id": "cat", "text": "The cat sat on the mat."}' '{"id": "dog", "text": "A dog barked at the mailman."}' \
          '{"id": "news", "text": "Stock markets fell sharply today."}' > docs.jsonl
        mrl index --model tests/fixtures/onnx/base --input docs.jsonl --prefix 16 >/dev/null

        """;

    private async Task AdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(_postgres.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<string> CreateDatabaseAsync(string name, string id)
    {
        await AdminAsync($"CREATE DATABASE {name}");

        var connection = new NpgsqlConnectionStringBuilder(_postgres.AdminConnectionString) { Database = name, ApplicationName = id }.ConnectionString;
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var extension = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", conn);
        await extension.ExecuteNonQueryAsync();
        return connection;
    }

    // What a user's application table looks like before a migration: a key, a payload, 1,536-d vectors.
    private static async Task<string> CreateDocumentsTableAsync(string connection)
    {
        await using var conn = new NpgsqlConnection(connection);
        await conn.OpenAsync();
        await using var create = new NpgsqlCommand("""
            CREATE TABLE public.documents (id bigint PRIMARY KEY, body text NOT NULL, embedding vector(1536) NOT NULL);
            INSERT INTO public.documents
            SELECT i, 'document ' || i, l2_normalize(array_agg(sin(i * 0.37 + d * 0.11) * exp(-d / 300.0))::vector)
            FROM generate_series(1, 500) AS i, generate_series(1, 1536) AS d GROUP BY i;
            """, conn);
        await create.ExecuteNonQueryAsync();
        return "";
    }

    private static async Task<(int ExitCode, string Output)> RunBashAsync(string directory, string bin, string connection, string script)
    {
        var start = new ProcessStartInfo("bash") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-euo");
        start.ArgumentList.Add("pipefail");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.Environment["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        start.Environment["CONN"] = connection;
        start.Environment["COLUMNS"] = "80";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }
}
