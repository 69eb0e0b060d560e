using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Qdrant;
using Mrl.Adapters.Qdrant.Migration;
using Qdrant.Client;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl migrate qdrant</c>: add a prefix named vector to an existing collection.</summary>
internal static class MigrateQdrantCommand
{
    public static Command Create()
    {
        var url = new Option<string>("--url") { Description = "Qdrant gRPC endpoint, e.g. http://localhost:6334.", Required = true };
        var apiKey = new Option<string?>("--api-key") { Description = "API key (default: the MRL_QDRANT_API_KEY environment variable). Never printed." };
        var collection = new Option<string>("--collection") { Description = "The collection or alias to migrate.", Required = true };
        var dims = new Option<int>("--dims") { Description = "Full dimensions of the existing vectors.", Required = true };
        var prefix = new Option<int>("--prefix", "-p") { Description = "Prefix dimensions to index.", Required = true };
        var metric = new Option<DistanceMetric>("--metric") { Description = "Cosine, DotProduct, Euclidean or Manhattan.", DefaultValueFactory = _ => DistanceMetric.Cosine };
        var prefixName = new Option<string>("--prefix-vector") { Description = "Name of the new prefix vector.", DefaultValueFactory = _ => "prefix" };
        var fullName = new Option<string>("--full-vector") { Description = "Name the full vector has (or gets, through a new collection).", DefaultValueFactory = _ => "full" };
        var source = new Option<string?>("--source-vector") { Description = "The existing vector's name; omit for an unnamed vector." };
        var path = new Option<QdrantMigrationPath>("--path") { Description = "Auto, InPlace (Qdrant 1.18+) or NewCollection (copy, then switch an alias).", DefaultValueFactory = _ => QdrantMigrationPath.Auto };
        var target = new Option<string?>("--target-collection") { Description = "The new collection's name, for NewCollection." };
        var alias = new Option<string?>("--alias") { Description = "The alias readers use, switched atomically to the new collection." };
        var batch = new Option<int>("--batch-size") { Description = "Points per scroll page.", DefaultValueFactory = _ => 256 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read the server's state and print the calls, make no write." };

        var command = new Command("qdrant", "Add a prefix named vector to an existing Qdrant collection: in place on 1.18+, or through a new collection and an alias.")
        {
            url, apiKey, collection, dims, prefix, metric, prefixName, fullName, source, path, target, alias, batch, dryRun,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var endpoint = Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
                ? parsed
                : throw new ArgumentException($"--url must be an absolute http or https URL, got '{parse.GetValue(url)}'.");
            var key = parse.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("MRL_QDRANT_API_KEY");
            var store = new QdrantStoreOptions
            {
                ApiKey = key,
                Layout = new EmbeddingLayout(parse.GetValue(dims), parse.GetValue(prefix), parse.GetValue(metric)),
                Collection = parse.GetValue(collection)!,
                PrefixVectorName = parse.GetValue(prefixName)!,
                FullVectorName = parse.GetValue(fullName)!,
            };
            store.Validate();
            var options = new QdrantMigrationOptions
            {
                Path = parse.GetValue(path),
                SourceVectorName = parse.GetValue(source),
                TargetCollection = parse.GetValue(target),
                Alias = parse.GetValue(alias),
                BatchSize = parse.GetValue(batch),
            };

            using var client = new QdrantClient(endpoint, string.IsNullOrEmpty(key) ? null : key);
            var migrator = new QdrantMigrator(client, store);
            var plan = await migrator.PlanAsync(options, cancellationToken);
            if (parse.GetValue(dryRun))
            {
                Console.WriteLine(plan.ToString());
                return 0;
            }

            QdrantMigrationResult? result = null;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("points", maxValue: 1);
                    var progress = new InlineProgress(p =>
                    {
                        task.Description = p.Phase;
                        task.MaxValue = Math.Max(1, p.PointsTotal ?? p.PointsDone);
                        task.Value = p.PointsDone;
                    });
                    result = await migrator.ExecuteAsync(plan, progress, cancellationToken);
                    task.Value = task.MaxValue;
                });
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Migrated {result!.PointsProcessed} points by {result.Path}; search collection '{result.Collection}'."));
            if (result.PointsWithoutPrefix > 0)
            {
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.PointsWithoutPrefix} points had no usable full vector and got no prefix, e.g. {string.Join(", ", result.SomePointsWithoutPrefix.Take(5))}."));
            }

            return 0;
        });
        return command;
    }

    private sealed class InlineProgress(Action<QdrantMigrationProgress> report) : IProgress<QdrantMigrationProgress>
    {
        public void Report(QdrantMigrationProgress value) => report(value);
    }
}
