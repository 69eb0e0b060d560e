using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Pgvector;
using Mrl.Bench;
using Mrl.Bench.Synthetic;
using Mrl.Cli.Bench;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary>
/// <c>mrl demo</c>: two-pass retrieval on synthetic MRL-like data against exact full-dimension kNN, run by the same
/// engine as <c>mrl bench</c> (one measurement of recall@k and latency, warm-up before timing) with a short table.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The table the demo makes on PostgreSQL, dropped when it ends.</summary>
    public const string PostgresTable = "mrl_demo";

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
        var postgres = new Option<string?>("--postgres") { Description = $"Npgsql connection string: run on PostgreSQL + pgvector (in a table {PostgresTable}, dropped at the end) instead of in memory." };
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
            var hits = parse.GetValue(k);
            var factor = parse.GetValue(oversampling);
            _ = new SearchOptions { K = hits, Oversampling = factor, EfSearch = parse.GetValue(efSearch) }.CandidateCount;
            var corpus = new SyntheticCorpusOptions { Dimensions = layout.FullDimensions, Difficulty = parse.GetValue(difficulty), Seed = parse.GetValue(seed) };
            var data = ConsoleBenchProgress.Run(progress =>
            {
                var step = progress.AddTask("Generating corpus", maxValue: 1);
                var generated = BenchDataset.Synthetic(corpus, parse.GetValue(count), parse.GetValue(queries));
                step.Increment(1);
                return generated;
            });

            var connectionString = parse.GetValue(postgres);
            List<string> strategies = [BenchStrategy.Full, BenchStrategy.Prefix, BenchStrategy.TwoPass, BenchStrategy.TwoPassInDatabase];
            if (connectionString is not null && parse.GetValue(cache))
            {
                strategies.AddRange([BenchStrategy.TwoPassCachedCold, BenchStrategy.TwoPassCachedWarm]);
            }

            int[] oversamplings = factor >= 4 ? [factor / 4, factor] : [factor];
            var settings = new BenchSettings(hits, strategies, [layout.PrefixDimensions], oversamplings, [parse.GetValue(efSearch) ?? 40],
                Clients: 1, Warmup: 50, TruthCache: null, BandwidthBytes: 0, TargetRecall: 0.99, CommandLine: "");
            IBenchBackend backend = connectionString is null
                ? new MemoryBenchBackend(data)
                : new PostgresBenchBackend(data, new PostgresBenchOptions(connectionString, PostgresTable, VectorType.Vector, ParallelWorkers: null,
                    MaintenanceWorkMem: "1GB", HnswM: 16, HnswEfConstruction: 64, KeepTable: false, CacheStorage.FullPrecision));
            BenchRun run;
            await using (backend)
            {
                run = await ConsoleBenchProgress.RunAsync(progress => BenchRunner.RunAsync(data, [backend], settings, progress, cancellationToken));
            }

            Print(run, layout, connectionString is null ? "in-memory" : $"postgres ({PostgresTable}, dropped)");
            recorder?.Print();
            return 0;
        });
        return command;
    }

    private static void Print(BenchRun run, EmbeddingLayout layout, string backend)
    {
        var table = new Table().Title(TerminalText.Markup(string.Create(CultureInfo.InvariantCulture,
            $"{backend}: {run.Data.Count:N0} x {layout.FullDimensions}d, prefix {layout.PrefixDimensions}d, {run.Data.Queries.Rows} queries")));
        table.AddColumns("strategy", "oversampling", $"recall@{run.Settings.K}", "p50 ms", "p95 ms", "candidates");
        foreach (var row in run.Rows)
        {
            table.AddRow(
                row.Result.Strategy,
                row.Result.Oversampling.ToString(CultureInfo.InvariantCulture),
                row.Result.Recall.ToString("F3", CultureInfo.InvariantCulture),
                row.Result.P50Ms.ToString("F2", CultureInfo.InvariantCulture),
                row.Result.P95Ms.ToString("F2", CultureInfo.InvariantCulture),
                row.Measurement.CandidatesPerQuery.ToString("F0", CultureInfo.InvariantCulture));
        }

        AnsiConsole.Write(table);
        foreach (var note in run.Notes)
        {
            AnsiConsole.WriteLine(TerminalText.Plain(note));
        }

        foreach (var build in run.Builds.Where(b => b.Seconds is not null))
        {
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"index {TerminalText.Plain(build.Index)}: {(build.Bytes ?? 0) / 1048576.0:F1} MiB, built in {build.Seconds:F1} s"));
        }

        AnsiConsole.WriteLine("full: one pass over the full vectors (in memory: exact; postgres: HNSW); prefix: the prefix alone; two-pass: prefix candidates reranked in process; two-pass-db: reranked by the database. Recall is against exact full-dimension kNN. `mrl bench` measures the same with sweeps, several clients and reports.");
    }
}
