using Mrl.Adapters;
using Mrl.Bench;

namespace Mrl.Cli.Tests;

public sealed class BenchRoundsTests
{
    private static readonly BenchConfiguration Full = new(BenchStrategy.Full, null, 1, null);
    private static readonly BenchConfiguration Prefix = new(BenchStrategy.Prefix, 8, 1, null);
    private static readonly BenchConfiguration TwoPass = new(BenchStrategy.TwoPass, 8, 4, null);

    [Fact]
    public void The_schedule_measures_every_configuration_of_every_backend_once_a_round_in_the_same_order()
    {
        IReadOnlyList<(string Backend, IReadOnlyList<BenchConfiguration> Plan)> plans = [("a", [Full, TwoPass]), ("b", [Prefix])];

        var schedule = BenchRunner.Schedule(plans, [1, 4], rounds: 3);

        var oneRound = new[] { ("a", Full, 1), ("a", Full, 4), ("a", TwoPass, 1), ("a", TwoPass, 4), ("b", Prefix, 1), ("b", Prefix, 4) };
        Assert.Equal(Enumerable.Range(1, 3).SelectMany(round => oneRound.Select(m => (round, m.Item1, m.Item2, m.Item3))), schedule.Select(s => (s.Round, s.Backend, s.Configuration, s.Clients)));
    }

    [Fact]
    public async Task A_run_in_three_rounds_opens_the_configurations_round_robin_and_keeps_every_round()
    {
        var data = Data(count: 200, dims: 16, queries: 10);
        var backend = new RecordingBackend(data);
        var settings = new BenchSettings(10, [BenchStrategy.Full, BenchStrategy.Prefix], [8], [4], [40], Clients: 1, Warmup: 2, TruthCache: null,
            BandwidthBytes: 0, TargetRecall: 0.99, CommandLine: "", Rounds: 3);

        var run = await BenchRunner.RunAsync(data, [backend], settings, SilentBenchProgress.Instance, CancellationToken.None);

        Assert.Equal(["full", "prefix", "full", "prefix", "full", "prefix"], backend.Opened);
        Assert.Equal(["full", "prefix"], run.Rows.Select(r => r.Result.Strategy));
        Assert.All(run.Rows, r => Assert.Equal((3, 3), (r.Result.Rounds, r.Rounds.Count)));
        Assert.All(run.Rows, r => Assert.True(r.Result.QpsMin <= r.Result.Qps && r.Result.Qps <= r.Result.QpsMax));
        Assert.All(run.Rows, r => Assert.Null(r.Result.DbCpuMsPerQuery));
    }

    [Fact]
    public void A_spread_is_the_middle_value_with_the_lowest_and_the_highest()
    {
        Assert.Equal(new Spread(2, 1, 3, 3), Spread.Of([3, 1, 2]));
        Assert.Equal(new Spread(3.5, 1, 10, 4), Spread.Of([10, 3, 1, 4]));
        Assert.Equal(new Spread(7, 7, 7, 1), Spread.Of([7]));
        Assert.Equal(0.5, Spread.Of([2, 3]).Range, 10);
        Assert.Null(Spread.OfPresent([null, null]));
        Assert.Equal(new Spread(2, 2, 2, 1), Spread.OfPresent([null, 2]));
        Assert.Throws<ArgumentException>(() => Spread.Of([]));
    }

    [Fact]
    public void A_result_carries_the_median_of_its_rounds_with_their_range()
    {
        var row = Row(Full, [(100, 0.98, 2.0), (300, 0.99, 0.5), (200, 0.97, null)]);

        Assert.Equal((200, 100, 300), (row.Result.Qps, row.Result.QpsMin, row.Result.QpsMax));
        Assert.Equal((0.98, 0.97, 0.99), (row.Result.Recall, row.Result.RecallMin, row.Result.RecallMax));
        Assert.Equal((1.25, 0.5, 2.0), (row.Result.DbCpuMsPerQuery!.Value, row.Result.DbCpuMsPerQueryMin!.Value, row.Result.DbCpuMsPerQueryMax!.Value));
        Assert.Equal(200, row.Measurement.Qps);
    }

    [Fact]
    public void Ratios_between_strategies_are_taken_round_by_round_and_their_median_reported()
    {
        // The medians alone would say 200 / 100 = 2x; round by round the ratios are 1x, 4x and 1.2x.
        var twoPass = Row(TwoPass, [(100, 0.995, 0.2), (200, 0.995, 0.2), (300, 0.995, 0.3)]);
        var full = Row(Full, [(100, 0.995, 0.4), (50, 0.995, 0.4), (250, 0.995, 0.6)]);

        var ratio = BenchSummary.QpsRatio(twoPass, full);
        var cpu = BenchSummary.DbCpuRatio(twoPass, full);
        var lines = BenchSummary.Lines([full, twoPass], [], [], target: 0.99, bandwidth: null);

        Assert.Equal(new Spread(1.2, 1, 4, 3), ratio);
        Assert.Equal(0.5, cpu!.Value.Median, 10);
        Assert.Contains(lines, l => l.Contains("two-pass p=8 x4, recall 0.9950) = 1.20x (rounds 1.00-4.00x) full; database CPU 0.200 ms/query = 0.50x (rounds 0.50-0.50x) full's.", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("against the best baseline at recall >= 0.99 (full, 100.0 QPS (50.0-250.0)): 1.20x (rounds 1.00-4.00x); two-pass wins.", StringComparison.Ordinal));
    }

    [Fact]
    public void Rows_measured_in_different_numbers_of_rounds_have_no_ratio()
    {
        var three = Row(Full, [(1, 1, null), (1, 1, null), (1, 1, null)]);
        var one = Row(TwoPass, [(1, 1, null)]);

        Assert.Throws<ArgumentException>(() => BenchSummary.QpsRatio(one, three));
    }

    private static BenchRow Row(BenchConfiguration configuration, (double Qps, double Recall, double? Cpu)[] rounds) =>
        BenchRow.FromRounds("postgres", configuration,
            rounds.Select(r => new Measurement(r.Recall, r.Qps, 1000 / r.Qps, 2, 3, 0, 0.5, 40, 100, 1, r.Cpu)).ToArray(), (null, null), 1000, 64, 10);

    private static BenchDataset Data(int count, int dims, int queries)
    {
        var random = new Random(3);
        float[] Values(int rows) => Enumerable.Range(0, rows * dims).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        return new BenchDataset("random", new VectorMatrix<float>(Values(count), count, dims), new VectorMatrix<float>(Values(queries), queries, dims), DistanceMetric.Euclidean, null);
    }

    // Answers every search with the first k rows, and records which configuration each measurement opened.
    private sealed class RecordingBackend(BenchDataset data) : IBenchBackend
    {
        public List<string> Opened { get; } = [];

        public string Name => "recording";

        public BackendFeatures Features { get; } = new(EfSearch: false, MaxEfSearch: 0, new Dictionary<string, string>());

        public string Settings => "";

        public IReadOnlyList<IndexBuildRecord> Builds => [];

        public Task PrepareAsync(IReadOnlyList<int> prefixDims, IBenchProgress progress, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<StoreLease> OpenAsync(BenchConfiguration configuration, IBenchProgress progress, CancellationToken cancellationToken)
        {
            Opened.Add(configuration.Strategy);
            return Task.FromResult(new StoreLease((_, options, _) => Task.FromResult(new SearchResult<long>(
                Enumerable.Range(0, Math.Min(options.K, data.Count)).Select(i => new SearchHit<long>(i, 0, null)).ToArray(), new SearchDiagnostics()))));
        }

        public (double? Seconds, long? Bytes) IndexCost(BenchConfiguration configuration) => (null, null);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
