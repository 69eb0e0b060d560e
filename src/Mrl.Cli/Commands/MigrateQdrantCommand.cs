using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Qdrant;
using Mrl.Adapters.Qdrant.Migration;
using Qdrant.Client;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary>
/// <c>mrl migrate qdrant</c>: add a prefix named vector to an existing collection; with <c>--projection</c>, a projected key
/// fitted on a sample of the collection and stored beside it first.
/// </summary>
internal static class MigrateQdrantCommand
{
    public static Command Create() => Create(static (endpoint, apiKey) => new QdrantClient(endpoint, apiKey));

    /// <summary>The command, with the client <paramref name="connect"/> makes from the endpoint and the API key (or null).</summary>
    internal static Command Create(Func<Uri, string?, QdrantClient> connect)
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
        var projection = new Option<bool>("--projection")
        {
            Description = "Key the prefix vector with a projection (top principal directions) fitted on a sample of the collection, for models not trained with a " +
                          "Matryoshka loss; stored beside the collection (Qdrant 1.16+) before the backfill. A rerun goes on with the stored projection.",
        };
        var sample = new Option<int>("--sample") { Description = "Points to fit the projection on (the same ones on a rerun).", DefaultValueFactory = _ => ProjectionFitter.DefaultSampleSize };
        var dryRun = new Option<bool>("--dry-run") { Description = "Read the server's state (and with --projection, fit) and print the calls, make no write." };

        var command = new Command("qdrant", "Add a prefix named vector to an existing Qdrant collection: in place on 1.18+, or through a new collection and an alias.")
        {
            url, apiKey, collection, dims, prefix, metric, prefixName, fullName, source, path, target, alias, batch, projection, sample, dryRun,
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

            using var client = connect(endpoint, string.IsNullOrEmpty(key) ? null : key);
            if (parse.GetValue(projection))
            {
                store.Layout = new EmbeddingLayout(await ProjectionAsync(client, store, options, parse.GetValue(sample), cancellationToken), store.Layout.Metric);
            }

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
            var keys = store.Layout.Projection is { } stored ? $" with keys projected by {stored} (read it back with QdrantMigrator.ReadLayoutAsync)" : "";
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Migrated {result!.PointsProcessed} points by {result.Path}{keys}; search collection '{result.Collection}'."));
            if (result.PointsWithoutPrefix > 0)
            {
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.PointsWithoutPrefix} points had no usable full vector and got no prefix, e.g. {string.Join(", ", result.SomePointsWithoutPrefix.Take(5))}."));
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// The projection to migrate with: the one the collection (or the new-collection path's target, left by an interrupted
    /// run) records already, or a new fit on a sample of the collection.
    /// </summary>
    private static async Task<PrefixProjection> ProjectionAsync(
        QdrantClient client, QdrantStoreOptions store, QdrantMigrationOptions options, int sampleSize, CancellationToken cancellationToken)
    {
        var layout = store.Layout!;
        var stored = await QdrantMigrator.ReadProjectionAsync(client, store, cancellationToken);
        if (stored is null && options.TargetCollection is { } target)
        {
            var onTarget = new QdrantStoreOptions { ApiKey = store.ApiKey, Collection = target, PrefixVectorName = store.PrefixVectorName, FullVectorName = store.FullVectorName };
            stored = await QdrantMigrator.ReadProjectionAsync(client, onTarget, cancellationToken);
        }

        if (stored is not null)
        {
            if (stored.Rows != layout.PrefixDimensions || stored.Columns != layout.FullDimensions)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"'{store.Collection}' already keys '{store.PrefixVectorName}' with {stored} (--prefix {stored.Rows}, --dims {stored.Columns}), not --prefix {layout.PrefixDimensions} " +
                    $"--dims {layout.FullDimensions}. Use those, or migrate into another --prefix-vector."));
            }

            Console.WriteLine($"'{TerminalText.Plain(store.Collection)}' has {stored} already: going on with it, no new fit.");
            return stored;
        }

        var clock = Stopwatch.StartNew();
        var fitted = await QdrantMigrator.FitProjectionAsync(client, store, layout.PrefixDimensions, layout.Metric, sampleSize, options.SourceVectorName, cancellationToken);
        if (fitted.Columns != layout.FullDimensions)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--dims {layout.FullDimensions} does not match the collection, whose full vector has {fitted.Columns} dimensions."));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Fitted {fitted} ({(ProjectionFitter.CentresFor(layout.Metric) ? "centred" : "uncentred")}, {layout.Metric}) on a sample of up to {sampleSize} points in {clock.Elapsed.TotalSeconds:F1} s."));
        return fitted;
    }

    private sealed class InlineProgress(Action<QdrantMigrationProgress> report) : IProgress<QdrantMigrationProgress>
    {
        public void Report(QdrantMigrationProgress value) => report(value);
    }
}
