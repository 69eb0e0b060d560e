using System.Diagnostics;
using System.Globalization;

namespace Mrl.Bench;

/// <summary>
/// Runs a benchmark: ground truth, bandwidth probe, every backend's load and builds, then the sweep in rounds: each round
/// measures every configuration of every backend once, in the same order, so that a change in the machine's load between
/// rounds moves every configuration alike, and the per-round ratios between strategies stay comparable.
/// </summary>
internal static class BenchRunner
{
    public static async Task<BenchRun> RunAsync(
        BenchDataset data, IReadOnlyList<IBenchBackend> backends, BenchSettings settings, IBenchProgress progress, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Rounds, 1);
        var started = DateTimeOffset.Now;
        var clock = Stopwatch.GetTimestamp();
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

        var plans = new List<(IBenchBackend Backend, IReadOnlyList<BenchConfiguration> Plan)>();
        foreach (var backend in backends)
        {
            foreach (var strategy in settings.Strategies.Where(backend.Features.Unsupported.ContainsKey))
            {
                notes.Add($"{backend.Name}: no {strategy}: {backend.Features.Unsupported[strategy]}.");
            }

            var plan = Order(BenchPlan.Build(settings.Strategies, settings.PrefixDims, settings.Oversampling, settings.EfSearch, settings.K, backend.Features), settings.PrefixDims);
            await backend.PrepareAsync(settings.PrefixDims, progress, cancellationToken);
            plans.Add((backend, plan));
        }

        int[] clientCounts = settings.Clients > 1 ? [1, settings.Clients] : [1];
        var schedule = Schedule(plans, clientCounts, settings.Rounds);
        var measured = new Dictionary<(IBenchBackend Backend, BenchConfiguration Configuration, int Clients), List<Measurement>>();
        var querying = progress.AddTask("Querying", maxValue: (double)schedule.Count * data.Queries.Rows);
        foreach (var (round, backend, configuration, clients) in schedule)
        {
            querying.Description = string.Create(CultureInfo.InvariantCulture, $"Round {round}/{settings.Rounds}, {backend.Name}: {configuration}, {clients} client(s)");
            await using var lease = await backend.OpenAsync(configuration, progress, cancellationToken);
            var warmup = configuration.Strategy == BenchStrategy.TwoPassCachedCold ? 0 : settings.Warmup;
            var measurement = await Measurement.RunAsync(
                lease.Search, configuration.ToSearchOptions(settings.K), data.Queries, truth, clients, warmup, () => querying.Increment(1),
                backend.SampleServerCpuAsync, cancellationToken);
            if (!measured.TryGetValue((backend, configuration, clients), out var rounds))
            {
                measured[(backend, configuration, clients)] = rounds = [];
            }

            rounds.Add(measurement);
        }

        querying.Description = string.Create(CultureInfo.InvariantCulture, $"Querying: {measured.Count} measurements x {settings.Rounds} round(s)");
        querying.StopTask();
        var rows = schedule.Where(s => s.Round == 1)
            .Select(s => BenchRow.FromRounds(s.Backend.Name, s.Configuration, measured[(s.Backend, s.Configuration, s.Clients)], s.Backend.IndexCost(s.Configuration), data.Count, data.Dimensions, settings.K))
            .ToArray();
        foreach (var backend in backends)
        {
            backendSettings[backend.Name] = backend.Settings;
        }

        var builds = backends.SelectMany(b => b.Builds).ToArray();
        var scanRates = BenchSummary.ScanRates(rows, bandwidth);
        var summary = BenchSummary.Lines(rows, builds, scanRates, settings.TargetRecall, bandwidth);
        return new BenchRun(data, settings, truthSource, rows, builds, backendSettings, bandwidth, scanRates, summary, notes, started, Stopwatch.GetElapsedTime(clock));
    }

    /// <summary>
    /// The order of the measurements: round after round, and in each round every backend's configurations in plan order,
    /// each with one client and then with the others.
    /// </summary>
    public static IReadOnlyList<(int Round, T Backend, BenchConfiguration Configuration, int Clients)> Schedule<T>(
        IReadOnlyList<(T Backend, IReadOnlyList<BenchConfiguration> Plan)> plans, IReadOnlyList<int> clientCounts, int rounds) =>
        (from round in Enumerable.Range(1, rounds)
         from plan in plans
         from configuration in plan.Plan
         from clients in clientCounts
         select (round, plan.Backend, configuration, clients)).ToArray();

    public static (VectorMatrix<int> Truth, string Source) ComputeTruth(BenchDataset data, BenchSettings settings, IBenchProgress progress)
    {
        var task = progress.AddTask("Exact ground truth", maxValue: data.Queries.Rows);
        var truth = GroundTruth.Get(data, settings.K, settings.TruthCache, done => task.Value = done, out var source);
        task.Value = data.Queries.Rows;
        task.StopTask();
        return (truth, source);
    }

    /// <summary>Configurations grouped by the prefix they search (full with the first), so that a backend that loads a store per prefix loads each once a round.</summary>
    public static IReadOnlyList<BenchConfiguration> Order(IReadOnlyList<BenchConfiguration> plan, IReadOnlyList<int> prefixDims) =>
        plan.Select((c, i) => (Configuration: c, Index: i))
            .OrderBy(x => prefixDims.ToList().IndexOf(x.Configuration.PrefixDims ?? prefixDims[0]))
            .ThenBy(x => x.Configuration.PrefixDims is null ? 0 : 1)
            .ThenBy(x => x.Index)
            .Select(x => x.Configuration)
            .ToArray();
}
