using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Synthetic;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl demo</c>: two-pass retrieval on synthetic MRL-like data, against exact full-dimension kNN.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var count = new Option<int>("--count") { Description = "Vectors in the corpus.", DefaultValueFactory = _ => 20_000 };
        var dims = new Option<int>("--dims") { Description = "Full dimensions D.", DefaultValueFactory = _ => 768 };
        var prefix = new Option<int>("--prefix") { Description = "Prefix dimensions p indexed for pass 1.", DefaultValueFactory = _ => 64 };
        var queries = new Option<int>("--queries") { Description = "Queries to run per strategy.", DefaultValueFactory = _ => 200 };
        var k = new Option<int>("--k") { Description = "Hits per query (recall@k).", DefaultValueFactory = _ => 10 };
        var oversampling = new Option<int>("--oversampling") { Description = "Candidates = k x oversampling.", DefaultValueFactory = _ => 8 };
        var difficulty = new Option<double>("--difficulty") { Description = "Cluster spread of the synthetic data (higher is harder).", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data.", DefaultValueFactory = _ => 42 };
        var postgres = new Option<string?>("--postgres") { Description = "Npgsql connection string: run on PostgreSQL + pgvector instead of in memory." };
        var efSearch = new Option<int?>("--ef-search") { Description = "hnsw.ef_search for the postgres store (raised to the candidate count)." };
        var cache = new Option<bool>("--cache") { Description = "With --postgres: also measure two-pass with an in-memory full-vector cache, cold and warm." };
        var trace = TraceRecorder.CreateOption();

        var command = new Command("demo", "Generate MRL-like vectors, load them into a store and compare full, prefix-only and two-pass search.")
        {
            count, dims, prefix, queries, k, oversampling, difficulty, seed, postgres, efSearch, cache, trace,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var recorder = TraceRecorder.StartIf(parse.GetValue(trace));
            var layout = new EmbeddingLayout(parse.GetValue(dims), parse.GetValue(prefix), DistanceMetric.Cosine);
            var corpusOptions = new SyntheticCorpusOptions { Dimensions = layout.FullDimensions, Difficulty = parse.GetValue(difficulty), Seed = parse.GetValue(seed) };
            var runner = new DemoRunner(corpusOptions, parse.GetValue(count), parse.GetValue(queries), parse.GetValue(k));
            var search = new SearchOptions { K = parse.GetValue(k), Oversampling = parse.GetValue(oversampling), EfSearch = parse.GetValue(efSearch) };
            if (parse.GetValue(postgres) is { } connectionString)
            {
                // One table per data set: a re-run upserts the same rows instead of mixing data sets.
                var table = string.Create(CultureInfo.InvariantCulture,
                    $"mrl_demo_{parse.GetValue(count)}_{layout.FullDimensions}_{layout.PrefixDimensions}_{parse.GetValue(seed)}_{(int)(parse.GetValue(difficulty) * 100)}");
                var options = new PgvectorStoreOptions { ConnectionString = connectionString, Table = table, CreateFullDimensionIndex = true, DeferIndexes = true };
                await using var store = new PgvectorAdaptiveStore<long>(layout, options);
                var strategies = StandardStrategies(store, search);
                await using var cached = new PgvectorAdaptiveStore<long>(store.DataSource, layout, options)
                {
                    FullVectorCache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(
                        layout.FullDimensions, (long)parse.GetValue(count) * ((layout.FullDimensions * 4) + 64))),
                };
                if (parse.GetValue(cache))
                {
                    strategies.Add(new("two-pass-cached cold", cached, search, Cold: true));
                    strategies.Add(new("two-pass-cached warm", cached, search, Prepare: async () => await cached.WarmAsync(cancellationToken: cancellationToken)));
                }

                IReadOnlyList<IndexBuild> builds = [];
                var rows = await RunAsync(runner, store, layout, strategies, parse.GetValue(count), cancellationToken,
                    async () => builds = await store.CreateIndexesAsync(new PgvectorMigrationOptions { MaintenanceWorkMem = "1GB" }, cancellationToken: cancellationToken));
                Print(rows, layout, parse.GetValue(count), parse.GetValue(queries), $"postgres ({table})");
                foreach (var build in builds)
                {
                    AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"index {build.Name}: {build.SizeBytes / 1048576.0:F1} MiB, built in {build.Elapsed.TotalSeconds:F1} s"));
                }
            }
            else
            {
                using var store = new InMemoryAdaptiveStore<long>(layout);
                var rows = await RunAsync(runner, store, layout, StandardStrategies(store, search), parse.GetValue(count), cancellationToken);
                Print(rows, layout, parse.GetValue(count), parse.GetValue(queries), "in-memory");
            }

            recorder?.Print();
            return 0;
        });
        return command;
    }

    /// <summary>One row of the demo's table: a store and the options it is searched with.</summary>
    /// <param name="Name">The strategy's name in the table.</param>
    /// <param name="Store">The store to search.</param>
    /// <param name="Options">The search options.</param>
    /// <param name="Cold">Measure without warm-up queries (a cold cache stays cold).</param>
    /// <param name="Prepare">Work before the measurement, e.g. warming a cache.</param>
    internal sealed record Strategy(string Name, IAdaptiveStore<long> Store, SearchOptions Options, bool Cold = false, Func<Task>? Prepare = null);

    internal static List<Strategy> StandardStrategies(IAdaptiveStore<long> store, SearchOptions search) =>
    [
        new("full", store, search with { Strategy = SearchStrategy.FullDimension }),
        new("prefix", store, search with { Strategy = SearchStrategy.PrefixOnly }),
        new("two-pass", store, search with { Oversampling = Math.Max(1, search.Oversampling / 4) }),
        new("two-pass", store, search),
        new("two-pass-db", store, search with { Strategy = SearchStrategy.TwoPassInDatabase }),
    ];

    internal static async Task<List<Evaluation>> RunAsync(
        DemoRunner runner, IAdaptiveStore<long> store, EmbeddingLayout layout, IReadOnlyList<Strategy> strategies, int count, CancellationToken cancellationToken,
        Func<Task>? afterLoad = null)
    {
        var rows = new List<Evaluation>();
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var generate = context.AddTask("Generating corpus", maxValue: 1);
                runner.Generate();
                generate.Increment(1);

                var truth = context.AddTask("Exact ground truth", maxValue: 1);
                runner.ComputeTruth(layout.Metric);
                truth.Increment(1);

                var load = context.AddTask("Loading store", maxValue: count);
                await runner.LoadAsync(store, 1_000, done => load.Value = done, cancellationToken);
                if (afterLoad is not null)
                {
                    var build = context.AddTask("Building indexes", maxValue: 1);
                    await afterLoad();
                    build.Increment(1);
                }

                var searching = context.AddTask("Searching", maxValue: strategies.Count);
                foreach (var strategy in strategies.Where(s => !s.Cold && s.Prepare is null))
                {
                    await runner.WarmUpAsync(strategy.Store, strategy.Options, cancellationToken);
                }

                foreach (var strategy in strategies)
                {
                    if (strategy.Prepare is not null)
                    {
                        await strategy.Prepare();
                        await runner.WarmUpAsync(strategy.Store, strategy.Options, cancellationToken);
                    }

                    rows.Add(await runner.EvaluateAsync(strategy.Store, strategy.Name, strategy.Options, cancellationToken));
                    searching.Increment(1);
                }
            });
        return rows;
    }

    internal static void Print(IReadOnlyList<Evaluation> rows, EmbeddingLayout layout, int count, int queries, string backend)
    {
        var table = new Table().Title($"{backend}: {count:N0} x {layout.FullDimensions}d, prefix {layout.PrefixDimensions}d, {queries} queries");
        table.AddColumns("strategy", "oversampling", "recall@10", "mean ms", "p95 ms", "candidates");
        foreach (var row in rows)
        {
            table.AddRow(
                row.Strategy,
                row.Oversampling.ToString(CultureInfo.InvariantCulture),
                row.Recall.ToString("F3", CultureInfo.InvariantCulture),
                row.MeanMs.ToString("F2", CultureInfo.InvariantCulture),
                row.P95Ms.ToString("F2", CultureInfo.InvariantCulture),
                row.MeanCandidates.ToString("F0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("full: one pass over the full vectors (in memory: exact; postgres: HNSW); prefix: the prefix alone; two-pass: prefix candidates reranked in process; two-pass-db: reranked by the store. Recall is against exact full-dimension kNN.");
    }
}
