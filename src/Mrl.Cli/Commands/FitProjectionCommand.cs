using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Npgsql;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary>
/// <c>mrl fit-projection</c>: fits a projected key on a sample of a pgvector table, stores it beside the table, and migrates
/// the table to it as <c>mrl migrate postgres</c> does (trigger, resumable backfill, concurrent index).
/// </summary>
internal static class FitProjectionCommand
{
    public static Command Create()
    {
        var table = new TableOptions();
        var sample = new Option<int>("--sample") { Description = "Rows to fit the projection on (a seeded random sample).", DefaultValueFactory = _ => ProjectionFitter.DefaultSampleSize };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per backfill batch.", DefaultValueFactory = _ => 5_000 };
        var throttle = new Option<int>("--throttle-ms") { Description = "Pause after each backfill batch.", DefaultValueFactory = _ => 0 };
        var lockTimeout = new Option<int>("--lock-timeout-ms") { Description = "Longest wait for a table lock before a retry.", DefaultValueFactory = _ => 2_000 };
        var memory = new Option<string?>("--maintenance-work-mem") { Description = "maintenance_work_mem for the index build, e.g. 1GB." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Fit, check the table read-only and print the SQL the migration would run; change nothing." };
        var refit = new Option<bool>("--refit")
        {
            Description = "Refit the table's projected key after its data drifted: fit a new version on a fresh sample, build its key column, trigger, " +
                "backfill and index beside the key in use, switch in one transaction, then drop the old key. Resumable; changes nothing when the new fit " +
                "gains less than --min-gain.",
        };
        var resize = new Option<bool>("--resize") { Description = "With --refit: give the new key --prefix values where the table's key has another size." };
        var minimumGain = new Option<double>("--min-gain")
        {
            Description = "With --refit: the least gain in the share of held-out rows' variance the key keeps (0.01 = one point) worth a refit.",
            DefaultValueFactory = _ => new PgvectorRefitOptions().MinimumGain,
        };

        var command = new Command("fit-projection",
            "Fit a projected pass-1 key (top principal directions) on a sample of a pgvector table, for models not trained with a Matryoshka loss; " +
            "store it beside the table, then add the key column, trigger, backfill and index. Resumable: a rerun goes on with the stored projection. " +
            "With --refit: replace the key in use with a new fit after the data drifted.");
        table.AddTo(command);
        foreach (var option in new Option[] { sample, batchSize, throttle, lockTimeout, memory, dryRun, refit, resize, minimumGain })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = table.StoreOptions(parse);
            if (options.PrefixStorage != PrefixStorage.Column)
            {
                throw new ArgumentException("A projected key needs --mode Column: an expression index cannot read the projection table.");
            }

            var migration = new PgvectorMigrationOptions
            {
                BatchSize = parse.GetValue(batchSize), Throttle = TimeSpan.FromMilliseconds(parse.GetValue(throttle)),
                LockTimeout = TimeSpan.FromMilliseconds(parse.GetValue(lockTimeout)), MaintenanceWorkMem = parse.GetValue(memory),
            };
            var prefix = parse.GetValue(table.Prefix);
            var metric = parse.GetValue(table.Metric);
            var qualified = SqlIdentifier.Qualified(options.Schema, options.Table);
            if (!parse.GetValue(refit) && (parse.GetValue(resize) || parse.GetResult(minimumGain) is { Implicit: false }))
            {
                throw new ArgumentException("--resize and --min-gain go with --refit.");
            }

            await using var dataSource = PgvectorDataSource.Create(parse.GetValue(table.Connection)!);
            if (parse.GetValue(table.Dims) is { } declared)
            {
                var column = await PgvectorMigrator.ReadFullDimensionsAsync(dataSource, options, cancellationToken);
                if (declared != column)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--dims {declared} does not match the column, which holds vectors of {column} dimensions."));
                }
            }

            if (parse.GetValue(refit))
            {
                var refitOptions = new PgvectorRefitOptions
                {
                    Metric = metric, PrefixDimensions = prefix, ChangePrefixDimensions = parse.GetValue(resize), SampleSize = parse.GetValue(sample),
                    MinimumGain = parse.GetValue(minimumGain),
                };
                return await RefitAsync(dataSource, options, refitOptions, migration, parse.GetValue(dryRun), cancellationToken);
            }

            // A run interrupted after the trigger was installed goes on with the projection its keys are computed with.
            var projection = await PgvectorMigrator.ReadProjectionAsync(dataSource, options, cancellationToken);
            if (projection is not null)
            {
                if (projection.Rows != prefix)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"{qualified} already has a projected key of {projection.Rows} values (version {projection.Version}), not {prefix}. Use --prefix {projection.Rows}, refit it to {prefix} values with --refit --resize, or remove it first with `mrl migrate postgres --prefix {projection.Rows} --down`."));
                }

                Console.WriteLine($"-- {TerminalText.Plain(qualified)} has projection version {projection.Version} already: going on with it, no new fit.");
            }
            else
            {
                var clock = Stopwatch.StartNew();
                projection = await PgvectorMigrator.FitProjectionAsync(dataSource, options, prefix, metric, parse.GetValue(sample), cancellationToken);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"-- fitted {projection} ({(ProjectionFitter.CentresFor(metric) ? "centred" : "uncentred")}, {metric}) on a sample of up to {parse.GetValue(sample)} rows in {clock.Elapsed.TotalSeconds:F1} s"));
            }

            var migrator = new PgvectorMigrator(dataSource, new EmbeddingLayout(projection, metric), options);
            if (parse.GetValue(dryRun))
            {
                var plan = await migrator.PreflightAsync(down: false, migration, cancellationToken);
                if (plan.Problems.Count > 0)
                {
                    throw new PgvectorMigrationException(qualified, plan.Problems);
                }

                Console.WriteLine($"-- preflight passed for {TerminalText.Plain(qualified)}{(plan.UpToDate ? " (already migrated with this projection)" : "")}; nothing was changed");
                foreach (var note in plan.Notes)
                {
                    Console.WriteLine("-- note: " + TerminalText.Plain(note));
                }

                MigrateCommand.PrintStatements(plan.Statements);
                return 0;
            }

            var result = await MigrateCommand.RunAsync(dataSource, migrator, options, migration, down: false, cancellationToken);
            var message = result.Changed
                ? $"Migrated {qualified} to projected key version {projection.Version.ToString(CultureInfo.InvariantCulture)} ({projection.Rows.ToString(CultureInfo.InvariantCulture)} of {projection.Columns.ToString(CultureInfo.InvariantCulture)} dimensions)."
                : $"Already migrated: {qualified} has its projected key version {projection.Version.ToString(CultureInfo.InvariantCulture)}, trigger and index; nothing was changed.";
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]{TerminalText.Plain(message)}[/]");
            return 0;
        });
        return command;
    }

    /// <summary><c>--refit</c>: the plan (with <c>--dry-run</c>), or the refit with the progress screen, and what it did in one line.</summary>
    private static async Task<int> RefitAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, PgvectorRefitOptions refit,
        PgvectorMigrationOptions migration, bool dryRun, CancellationToken cancellationToken)
    {
        var qualified = SqlIdentifier.Qualified(options.Schema, options.Table);
        if (dryRun)
        {
            var plan = await PgvectorMigrator.PlanRefitAsync(dataSource, options, refit, migration, cancellationToken);
            Console.WriteLine($"-- refit of {TerminalText.Plain(qualified)}: {Describe(plan)}; nothing was changed");
            foreach (var note in plan.Notes)
            {
                Console.WriteLine("-- note: " + TerminalText.Plain(note));
            }

            MigrateCommand.PrintStatements(plan.Statements);
            return 0;
        }

        var done = await MigrateCommand.RunWithScreenAsync(dataSource, options,
            progress => PgvectorMigrator.RefitProjectionAsync(dataSource, options, refit, migration, progress, cancellationToken), buildsIndexes: true, cancellationToken);
        var target = done.Target;
        var message = done.Action switch
        {
            PgvectorRefitAction.None => $"Nothing to refit: the key of {qualified} (projection version {Number(done.CurrentVersion)}) keeps about as much as a new fit; nothing was changed.",
            PgvectorRefitAction.FinishCleanup => $"Finished the refit of {qualified}: projection version {Number(target!.Version)} was in use already; what the replaced version left is dropped.",
            _ => $"Refitted {qualified}: projection version {Number(target!.Version)} ({Number(target.Rows)} of {Number(target.Columns)} dimensions) is the key in use, " +
                $"and version {Number(done.CurrentVersion)}'s column, indexes and directions are dropped. Open stores again (PgvectorMigrator.ReadLayoutAsync) to search with it.",
        };
        AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]{TerminalText.Plain(message)}[/]");
        return 0;
    }

    private static string Describe(PgvectorRefitPlan plan) => plan.Action switch
    {
        PgvectorRefitAction.None => $"nothing to do, the key in use is projection version {Number(plan.CurrentVersion)}",
        PgvectorRefitAction.Refit => $"would fit projection version {Number(plan.Target!.Version)} and switch to it from version {Number(plan.CurrentVersion)}",
        PgvectorRefitAction.Resume => $"would go on with the refit to projection version {Number(plan.Target!.Version)} (from version {Number(plan.CurrentVersion)}) an earlier run started",
        _ => $"would finish the refit to projection version {Number(plan.Target!.Version)}, switched already",
    };

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
