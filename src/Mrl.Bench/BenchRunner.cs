using System.Diagnostics;
using System.Globalization;

namespace Mrl.Bench;

/// <summary>Runs a benchmark: ground truth, bandwidth probe, then every backend's load, builds and sweep, reporting each step.</summary>
internal static class BenchRunner
{
    public static async Task<BenchRun> RunAsync(
        BenchDataset data, IReadOnlyList<IBenchBackend> backends, BenchSettings settings, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.GetTimestamp();
        var rows = new List<BenchRow>();
        var notes = new List<string>();
        var backendSettings = new Dictionary<string, string>();
        double? bandwidth = null;

        var (truth, truthSource) = ComputeTruth(data, settings, progress);
        if (backends.Any(b => b is MemoryBenchBackend) && settings.BandwidthBytes > 0)
        {
            var probe = progress.AddTask("Memory bandwidth (parallel sum)", maxValue: 1);
            bandwidth = MemoryBandwidth.MeasureBytesPerSecond(settings.BandwidthBytes);
            probe.Increment(1);
        }

        foreach (var backend in backends)
        {
            foreach (var strategy in settings.Strategies.Where(backend.Features.Unsupported.ContainsKey))
            {
                notes.Add($"{backend.Name}: no {strategy}: {backend.Features.Unsupported[strategy]}.");
            }

            var plan = Order(BenchPlan.Build(settings.Strategies, settings.PrefixDims, settings.Oversampling, settings.EfSearch, settings.K, backend.Features), settings.PrefixDims);
            await backend.PrepareAsync(settings.PrefixDims, progress, cancellationToken);
            int[] clientCounts = settings.Clients > 1 ? [1, settings.Clients] : [1];
            var querying = progress.AddTask($"Querying {backend.Name}", maxValue: (double)plan.Count * clientCounts.Length * data.Queries.Rows);
            foreach (var configuration in plan)
            {
                foreach (var clients in clientCounts)
                {
                    querying.Description = string.Create(CultureInfo.InvariantCulture, $"{backend.Name}: {configuration}, {clients} client(s)");
                    await using var lease = await backend.OpenAsync(configuration, progress, cancellationToken);
                    var warmup = configuration.Strategy == BenchStrategy.TwoPassCachedCold ? 0 : settings.Warmup;
                    var measurement = await Measurement.RunAsync(
                        lease.Store, configuration.ToSearchOptions(settings.K), data.Queries, truth, clients, warmup, () => querying.Increment(1), cancellationToken);
                    rows.Add(new BenchRow(ToResult(backend, configuration, measurement, data, settings.K), configuration, measurement));
                }
            }

            querying.Description = $"Querying {backend.Name}: {plan.Count} configurations";
            querying.StopTask();
            backendSettings[backend.Name] = backend.Settings;
        }

        var builds = backends.SelectMany(b => b.Builds).ToArray();
        var scanRates = BenchSummary.ScanRates(rows, bandwidth);
        var summary = BenchSummary.Lines(rows, builds, scanRates, settings.TargetRecall, bandwidth);
        return new BenchRun(data, settings, truthSource, rows, builds, backendSettings, bandwidth, scanRates, summary, notes, started, Stopwatch.GetElapsedTime(clock));
    }

    public static (VectorMatrix<int> Truth, string Source) ComputeTruth(BenchDataset data, BenchSettings settings, IBenchProgress progress)
    {
        var task = progress.AddTask("Exact ground truth", maxValue: data.Queries.Rows);
        var truth = GroundTruth.Get(data, settings.K, settings.TruthCache, done => task.Value = done, out var source);
        task.Value = data.Queries.Rows;
        task.StopTask();
        return (truth, source);
    }

    /// <summary>Configurations grouped by the prefix they search (full with the first), so that a backend that loads a store per prefix loads each once.</summary>
    public static IReadOnlyList<BenchConfiguration> Order(IReadOnlyList<BenchConfiguration> plan, IReadOnlyList<int> prefixDims) =>
        plan.Select((c, i) => (Configuration: c, Index: i))
            .OrderBy(x => prefixDims.ToList().IndexOf(x.Configuration.PrefixDims ?? prefixDims[0]))
            .ThenBy(x => x.Configuration.PrefixDims is null ? 0 : 1)
            .ThenBy(x => x.Index)
            .Select(x => x.Configuration)
            .ToArray();

    private static BenchResult ToResult(IBenchBackend backend, BenchConfiguration configuration, Measurement m, BenchDataset data, int k)
    {
        var (seconds, bytes) = backend.IndexCost(configuration);
        return new BenchResult(
            backend.Name,
            configuration.Strategy,
            configuration.PrefixDims,
            configuration.Oversampling,
            configuration.EfSearch,
            k,
            Math.Round(m.Recall, 4),
            Math.Round(m.Qps, 1),
            m.Clients,
            Math.Round(m.P50Ms, 3),
            Math.Round(m.P95Ms, 3),
            Math.Round(m.P99Ms, 3),
            seconds is { } s ? Math.Round(s, 2) : null,
            bytes,
            Math.Round(m.BytesPerQuery),
            data.Count,
            data.Dimensions);
    }
}
