using Mrl.Adapters.Testing;
using Npgsql;

namespace Mrl.Cli.Tests;

/// <summary><c>mrl migrate postgres</c> and <c>mrl migrate status</c> as the README prints them, and the mistakes a user makes with them.</summary>
public sealed class MigrateCommandTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private async Task<string> SeedDocumentsAsync()
    {
        postgres.RequireServer();
        await using var command = postgres.DataSource.CreateCommand(
            "DROP TABLE IF EXISTS public.documents; CREATE TABLE public.documents (id bigint PRIMARY KEY, embedding vector(768) NOT NULL, body text); " +
            "INSERT INTO public.documents SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 768))::vector, 'doc ' || i FROM generate_series(1, 500) AS i");
        await command.ExecuteNonQueryAsync();
        return postgres.ConnectionString;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = postgres.DataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [SkippableFact]
    public async Task The_readme_commands_check_migrate_and_report_a_table_as_printed()
    {
        var conn = await SeedDocumentsAsync();

        var dryRun = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256", "--dry-run");
        Assert.True(dryRun.ExitCode == 0, dryRun.Output);
        Assert.Contains("-- preflight passed for \"public\".\"documents\"", dryRun.Output, StringComparison.Ordinal);
        Assert.Contains("CREATE INDEX CONCURRENTLY", dryRun.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.documents'::regclass AND attname = 'embedding_prefix'"));

        var run = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("Migrated \"public\".\"documents\".", run.Output, StringComparison.Ordinal);

        var status = await CliRunner.RunAsync("migrate", "status", "-c", conn, "--table", "public.documents", "--prefix", "256");
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("rows without prefix  0 of 500", status.Output, StringComparison.Ordinal);
        Assert.Contains("a run would          change nothing", status.Output, StringComparison.Ordinal);

        var again = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256");
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains("Already migrated", again.Output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Cancelling_during_the_index_build_says_an_INVALID_index_remains_and_running_again_repairs_it()
    {
        postgres.RequireServer();
        var table = postgres.NewTableName("interrupted");
        await using (var seed = postgres.DataSource.CreateCommand(
            $"CREATE TABLE public.{table} (id bigint PRIMARY KEY, embedding vector(256) NOT NULL); " +
            $"INSERT INTO public.{table} SELECT i, ARRAY(SELECT random() - 0.5 + 0 * i FROM generate_series(1, 256))::vector FROM generate_series(1, 30000) AS i"))
        {
            seed.CommandTimeout = 300;
            await seed.ExecuteNonQueryAsync();
        }

        // A wide graph and a deep construction search make the build last long enough to be caught in the middle.
        string[] arguments = ["migrate", "postgres", "-c", postgres.ConnectionString, "--table", $"public.{table}", "--prefix", "128", "--m", "48", "--ef-construction", "400"];
        var parse = new System.CommandLine.RootCommand { Commands.MigrateCommand.Create() }.Parse(arguments);
        using var interrupt = new CancellationTokenSource();
        var run = parse.InvokeAsync(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false }, interrupt.Token);

        // Cancelled as Ctrl-C would be, once the server reports the build and the command has had time to show it.
        while (!run.IsCompleted && await ScalarAsync(
            "SELECT count(*) FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.index_relid JOIN pg_am a ON a.oid = c.relam " +
            $"WHERE p.relid = 'public.{table}'::regclass AND a.amname = 'hnsw'") == 0)
        {
            await Task.Delay(100);
        }

        Assert.False(run.IsCompleted, "the build ended before it could be interrupted");
        await Task.Delay(1500);
        await interrupt.CancelAsync();
        var interrupted = await Assert.ThrowsAsync<InterruptedStepException>(() => run);

        Assert.Contains("INVALID index", interrupted.Message, StringComparison.Ordinal);
        Assert.Contains("Run the same command again", interrupted.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM pg_index WHERE indrelid = 'public.{table}'::regclass AND NOT indisvalid"));

        var again = await CliRunner.RunAsync([.. arguments[..^4]]);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM pg_index WHERE indrelid = 'public.{table}'::regclass AND NOT indisvalid"));
    }

    [SkippableFact]
    public async Task Mistakes_exit_with_one_line_that_says_what_to_type_and_change_nothing()
    {
        var conn = await SeedDocumentsAsync();
        await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256");

        var otherPrefix = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "128");
        var typo = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256", "--vector-column", "embeding");
        var wrongCase = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.Documents", "--prefix", "256");
        var offline = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256", "--dry-run", "--offline");

        Assert.Equal(1, otherPrefix.ExitCode);
        Assert.StartsWith("error: Nothing was changed", otherPrefix.Output.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("--down", otherPrefix.Output, StringComparison.Ordinal);
        Assert.Equal(1, typo.ExitCode);
        Assert.Contains("no column 'embeding'", typo.Output, StringComparison.Ordinal);
        Assert.Equal(1, wrongCase.ExitCode);
        Assert.Contains("Did you mean \"public\".\"documents\"", wrongCase.Output, StringComparison.Ordinal);
        Assert.Equal(1, offline.ExitCode);
        Assert.Contains("--offline needs --dims", offline.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", otherPrefix.Output + typo.Output + wrongCase.Output, StringComparison.Ordinal);

        // The first migration is intact: every row keeps its 256-dimension prefix, and writes still get one.
        await using (var insert = postgres.DataSource.CreateCommand("INSERT INTO public.documents (id, embedding) SELECT 9999, embedding FROM public.documents WHERE id = 1"))
        {
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM public.documents WHERE embedding_prefix IS NULL"));
        var down = await CliRunner.RunAsync("migrate", "postgres", "-c", conn, "--table", "public.documents", "--prefix", "256", "--down");
        Assert.True(down.ExitCode == 0, down.Output);
        Assert.Contains("Removed the prefix", down.Output, StringComparison.Ordinal);
        NpgsqlConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_scoped_manhattan_migration_plans_a_partial_l1_index_for_its_collection()
    {
        var plan = await CliRunner.RunAsync("migrate", "postgres", "-c", "Host=127.0.0.1", "--table", "public.langchain_pg_embedding", "--key-column", "uuid",
            "--dims", "96", "--prefix", "24", "--metric", "Manhattan", "--prefix-column", "embedding_p96",
            "--scope-column", "collection_id", "--scope-value", "4b0c7e8e-0000-4000-8000-000000000001", "--dry-run", "--offline");
        var unpaired = await CliRunner.RunAsync("migrate", "postgres", "-c", "Host=127.0.0.1", "--table", "public.langchain_pg_embedding",
            "--dims", "96", "--prefix", "24", "--scope-column", "collection_id", "--dry-run", "--offline");

        Assert.True(plan.ExitCode == 0, plan.Output);
        Assert.Contains("\"public\".halfvec_l1_ops", plan.Output, StringComparison.Ordinal);
        Assert.Contains("WHERE \"collection_id\" = '4b0c7e8e-0000-4000-8000-000000000001'::pg_catalog.text;", plan.Output, StringComparison.Ordinal);
        Assert.Equal(1, unpaired.ExitCode);
        Assert.Contains("ScopeColumn and ScopeValue together", unpaired.Output, StringComparison.Ordinal);
    }
}
