using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl migrate</c>: add a prefix to an existing table or collection, in place.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var command = new Command("migrate", "Add a Matryoshka prefix to an existing table or collection without downtime.");
        command.Subcommands.Add(CreatePostgres());
        command.Subcommands.Add(MigrateQdrantCommand.Create());
        return command;
    }

    private static Command CreatePostgres()
    {
        var connection = new Option<string>("--connection", "-c") { Description = "Npgsql connection string.", Required = true };
        var table = new Option<string>("--table", "-t") { Description = "The table: name or schema.name.", Required = true };
        var keyColumn = new Option<string>("--key-column") { Description = "Primary-key column.", DefaultValueFactory = _ => "id" };
        var vectorColumn = new Option<string>("--vector-column") { Description = "Full-vector column (vector or halfvec).", DefaultValueFactory = _ => "embedding" };
        var dims = new Option<int?>("--dims") { Description = "Full dimensions; read from the column when omitted." };
        var prefix = new Option<int>("--prefix", "-p") { Description = "Prefix dimensions to index.", Required = true };
        var metric = new Option<DistanceMetric>("--metric") { Description = "Cosine, DotProduct or Euclidean.", DefaultValueFactory = _ => DistanceMetric.Cosine };
        var mode = new Option<PrefixStorage>("--mode") { Description = "Column (prefix column, trigger, backfill, index) or Expression (expression index only).", DefaultValueFactory = _ => PrefixStorage.Column };
        var prefixColumn = new Option<string?>("--prefix-column") { Description = "Prefix column name (default: {vector column}_prefix)." };
        var prefixType = new Option<VectorType>("--prefix-type") { Description = "HalfVec or Vector.", DefaultValueFactory = _ => VectorType.HalfVec };
        var batchSize = new Option<int>("--batch-size") { Description = "Rows per backfill batch.", DefaultValueFactory = _ => 5_000 };
        var throttle = new Option<int>("--throttle-ms") { Description = "Pause after each backfill batch.", DefaultValueFactory = _ => 0 };
        var lockTimeout = new Option<int>("--lock-timeout-ms") { Description = "Longest wait for a table lock before a retry.", DefaultValueFactory = _ => 2_000 };
        var memory = new Option<string?>("--maintenance-work-mem") { Description = "maintenance_work_mem for the index build, e.g. 1GB." };
        var m = new Option<int>("--m") { Description = "HNSW m.", DefaultValueFactory = _ => 16 };
        var efConstruction = new Option<int>("--ef-construction") { Description = "HNSW ef_construction.", DefaultValueFactory = _ => 64 };
        var down = new Option<bool>("--down") { Description = "Remove what the migration added." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the SQL and run nothing." };

        var command = new Command("postgres", "Add a prefix column (or expression index) to an existing pgvector table. Resumable and idempotent.")
        {
            connection, table, keyColumn, vectorColumn, dims, prefix, metric, mode, prefixColumn, prefixType,
            batchSize, throttle, lockTimeout, memory, m, efConstruction, down, dryRun,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (schema, name) = SqlIdentifier.ParseQualified(parse.GetValue(table)!);
            var options = new PgvectorStoreOptions
            {
                Schema = schema, Table = name, KeyColumn = parse.GetValue(keyColumn)!, VectorColumn = parse.GetValue(vectorColumn)!,
                PrefixStorage = parse.GetValue(mode), PrefixColumn = parse.GetValue(prefixColumn), PrefixVectorType = parse.GetValue(prefixType),
                HnswM = parse.GetValue(m), HnswEfConstruction = parse.GetValue(efConstruction), CreateTableIfMissing = false,
            };
            var migration = new PgvectorMigrationOptions
            {
                BatchSize = parse.GetValue(batchSize), Throttle = TimeSpan.FromMilliseconds(parse.GetValue(throttle)),
                LockTimeout = TimeSpan.FromMilliseconds(parse.GetValue(lockTimeout)), MaintenanceWorkMem = parse.GetValue(memory),
            };

            await using var dataSource = PgvectorDataSource.Create(parse.GetValue(connection)!);
            var fullDimensions = parse.GetValue(dims) ?? (parse.GetValue(dryRun)
                ? throw new ArgumentException("--dry-run needs --dims: it does not connect to read the column.")
                : await PgvectorMigrator.ReadFullDimensionsAsync(dataSource, options, cancellationToken));
            var migrator = new PgvectorMigrator(dataSource, new EmbeddingLayout(fullDimensions, parse.GetValue(prefix), parse.GetValue(metric)), options);

            if (parse.GetValue(dryRun))
            {
                foreach (var statement in parse.GetValue(down) ? migrator.PlanDown() : migrator.PlanUp(migration))
                {
                    Console.WriteLine(statement);
                    Console.WriteLine();
                }

                return 0;
            }

            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    var progress = new InlineProgress(p =>
                    {
                        if (!tasks.TryGetValue(p.Step, out var task))
                        {
                            task = tasks[p.Step] = context.AddTask(p.Step, maxValue: Math.Max(1, p.Total));
                        }

                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Total == 0 ? 1 : p.Done;
                        if (p.Message.Contains("retry", StringComparison.Ordinal) || p.Message.Contains("INVALID", StringComparison.Ordinal))
                        {
                            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[yellow]{TerminalText.Plain(p.Message)}[/]");
                        }
                    });
                    if (parse.GetValue(down))
                    {
                        await migrator.DownAsync(migration, progress, cancellationToken);
                    }
                    else
                    {
                        await migrator.UpAsync(migration, progress, cancellationToken);
                    }
                });
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[green]{(parse.GetValue(down) ? "Removed the prefix from" : "Migrated")} {TerminalText.Plain(schema)}.{TerminalText.Plain(name)}.[/]");
            return 0;
        });
        return command;
    }

    private sealed class InlineProgress(Action<MigrationProgress> report) : IProgress<MigrationProgress>
    {
        public void Report(MigrationProgress value) => report(value);
    }
}
