using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Npgsql;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl migrate</c>: add a prefix to an existing table or collection, in place.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var command = new Command("migrate", "Add a Matryoshka prefix to an existing table or collection without downtime.");
        command.Subcommands.Add(CreatePostgres());
        command.Subcommands.Add(CreateStatus());
        command.Subcommands.Add(MigrateQdrantCommand.Create());
        return command;
    }

    private static Command CreatePostgres()
    {
        var table = new TableOptions();
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per backfill batch.", DefaultValueFactory = _ => 5_000 };
        var throttle = new Option<int>("--throttle-ms") { Description = "Pause after each backfill batch.", DefaultValueFactory = _ => 0 };
        var lockTimeout = new Option<int>("--lock-timeout-ms") { Description = "Longest wait for a table lock before a retry.", DefaultValueFactory = _ => 2_000 };
        var memory = new Option<string?>("--maintenance-work-mem") { Description = "maintenance_work_mem for the index build, e.g. 1GB." };
        var down = new Option<bool>("--down") { Description = "Remove what the migration added." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the table read-only and print the SQL the migration would run; change nothing." };
        var offline = new Option<bool>("--offline") { Description = "With --dry-run: do not connect; print the SQL for pgvector in schema public (needs --dims; checks nothing)." };

        var command = new Command("postgres", "Add a prefix column (or expression index) to an existing pgvector table. Checks everything first; resumable and idempotent.");
        table.AddTo(command);
        foreach (var option in new Option[] { batchSize, throttle, lockTimeout, memory, down, dryRun, offline })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = table.StoreOptions(parse);
            var migration = new PgvectorMigrationOptions
            {
                BatchSize = parse.GetValue(batchSize), Throttle = TimeSpan.FromMilliseconds(parse.GetValue(throttle)),
                LockTimeout = TimeSpan.FromMilliseconds(parse.GetValue(lockTimeout)), MaintenanceWorkMem = parse.GetValue(memory),
            };
            if (parse.GetValue(offline) && !parse.GetValue(dryRun))
            {
                throw new ArgumentException("--offline goes with --dry-run: a migration has to connect.");
            }

            await using var dataSource = PgvectorDataSource.Create(parse.GetValue(table.Connection)!);
            if (parse.GetValue(offline))
            {
                var offlineMigrator = new PgvectorMigrator(dataSource, await table.LayoutAsync(parse, null, options, cancellationToken), options);
                Console.WriteLine("-- offline: nothing was checked; pgvector is assumed to be in schema public, and the table not partitioned.");
                PrintStatements(parse.GetValue(down) ? offlineMigrator.PlanDown() : offlineMigrator.PlanUp(migration));
                return 0;
            }

            var migrator = new PgvectorMigrator(dataSource, await table.LayoutAsync(parse, dataSource, options, cancellationToken), options);
            var qualified = SqlIdentifier.Qualified(options.Schema, options.Table);
            if (parse.GetValue(dryRun))
            {
                var plan = await migrator.PreflightAsync(parse.GetValue(down), migration, cancellationToken);
                if (plan.Problems.Count > 0)
                {
                    throw new PgvectorMigrationException(qualified, plan.Problems);
                }

                Console.WriteLine($"-- preflight passed for {TerminalText.Plain(qualified)}{(plan.UpToDate ? " (already migrated with these parameters)" : "")}");
                foreach (var note in plan.Notes)
                {
                    Console.WriteLine("-- note: " + TerminalText.Plain(note));
                }

                PrintStatements(plan.Statements);
                return 0;
            }

            var result = await RunAsync(dataSource, migrator, options, migration, parse.GetValue(down), cancellationToken);
            var message = (parse.GetValue(down), result.Changed) switch
            {
                (true, true) => $"Removed the prefix from {qualified}.",
                (true, false) => $"Nothing to remove: {qualified} has no prefix column, trigger or index of this migration.",
                (false, true) => $"Migrated {qualified}.",
                (false, false) => $"Already migrated: {qualified} has its prefix, trigger and index with these parameters; nothing was changed.",
            };
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]{TerminalText.Plain(message)}[/]");
            return 0;
        });
        return command;
    }

    private static Command CreateStatus()
    {
        var table = new TableOptions();
        var command = new Command("status", "Show a pgvector table's migration: prefix column, trigger, index, rows without a prefix, and whether a run would change anything. Reads only.");
        table.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = table.StoreOptions(parse);
            await using var dataSource = PgvectorDataSource.Create(parse.GetValue(table.Connection)!);
            var migrator = new PgvectorMigrator(dataSource, await table.LayoutAsync(parse, dataSource, options, cancellationToken), options);
            var status = await migrator.StatusAsync(cancellationToken);
            var lines = new List<(string, string)>
            {
                ("table", status.Table + (status.TableExists ? "" : " (does not exist)")),
                ("partitions", status.Partitions.ToString(CultureInfo.InvariantCulture)),
                ("prefix column", status.PrefixColumn ?? "none"),
                ("trigger", status.TriggerInstalled ? "installed" : "none"),
                ("index", status.IndexValid switch { null => "none", true => "valid", false => "INVALID or incomplete" }
                    + (status.IndexSizeBytes is { } size ? string.Create(CultureInfo.InvariantCulture, $", {size / 1048576.0:F1} MiB") : "")),
                ("rows without prefix", status.RowsWithoutPrefix is { } missing ? string.Create(CultureInfo.InvariantCulture, $"{missing} of {status.Rows}") : "n/a"),
                ("a run would", status.Plan.Problems.Count > 0 ? "refuse (see below)" : status.WouldChange ? "change the table" : "change nothing"),
            };
            foreach (var (label, value) in lines)
            {
                Console.WriteLine($"{label,-20} {TerminalText.Plain(value)}");
            }

            foreach (var note in status.Plan.Notes)
            {
                Console.WriteLine("note: " + TerminalText.Plain(note));
            }

            foreach (var problem in status.Plan.Problems)
            {
                Console.WriteLine("problem: " + TerminalText.Plain(problem));
            }

            return 0;
        });
        return command;
    }

    /// <summary>Runs a migration (or its removal) with the progress screen, and the server's view of an index build while one runs.</summary>
    internal static Task<PgvectorMigrationResult> RunAsync(NpgsqlDataSource dataSource, PgvectorMigrator migrator, PgvectorStoreOptions options,
        PgvectorMigrationOptions migration, bool down, CancellationToken cancellationToken) =>
        RunWithScreenAsync(dataSource, options, progress => down
            ? migrator.DownAsync(migration, progress, cancellationToken)
            : migrator.UpAsync(migration, progress, cancellationToken), buildsIndexes: !down, cancellationToken);

    /// <summary>
    /// Runs a migration step by step with the progress screen, and the server's view of an index build while one runs; a run that
    /// <paramref name="buildsIndexes"/> and is cancelled during a build says what the interrupted build left.
    /// </summary>
    internal static async Task<T> RunWithScreenAsync<T>(NpgsqlDataSource dataSource, PgvectorStoreOptions options,
        Func<IProgress<MigrationProgress>, Task<T>> start, bool buildsIndexes, CancellationToken cancellationToken)
    {
        var qualified = SqlIdentifier.Qualified(options.Schema, options.Table);
        T? result = default;
        var maintenance = new PgvectorMaintenance(dataSource, options);
        var building = false;
        try
        {
            await MigrationScreen.RunAsync(async screen =>
            {
                var progress = new InlineProgress(p =>
                {
                    building = false;
                    screen.Report(p);
                });
                var run = start(progress);

                // The library reports a step when it ends; an HNSW build runs for minutes, so the server's own progress
                // view shows it meanwhile.
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(500, cancellationToken));
                    if (run.IsCompleted)
                    {
                        break;
                    }

                    foreach (var build in await maintenance.ReadIndexBuildProgressAsync(cancellationToken))
                    {
                        building = true;
                        screen.ReportBuild(build);
                    }
                }

                result = await run;
            });
        }
        catch (OperationCanceledException e) when (building && buildsIndexes)
        {
            throw new InterruptedStepException(
                $"the index build of {qualified} was interrupted, and PostgreSQL keeps an INVALID index from an interrupted CREATE INDEX CONCURRENTLY. " +
                "Searches ignore it. Run the same command again: it drops the INVALID index and builds it anew (`mrl migrate status` shows it meanwhile).", e);
        }

        return result!;
    }

    internal static void PrintStatements(IEnumerable<string> statements)
    {
        foreach (var statement in statements)
        {
            Console.WriteLine(statement);
            Console.WriteLine();
        }
    }

    private sealed class InlineProgress(Action<MigrationProgress> report) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => report(value);
    }
}
