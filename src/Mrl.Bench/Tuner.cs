using System.Globalization;
using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>What <c>mrl tune</c> searches over.</summary>
internal sealed record TuneSettings(int K, double TargetRecall, IReadOnlyList<int> PrefixDims, IReadOnlyList<int> Oversampling, IReadOnlyList<int> EfSearch, int Warmup, string? TruthCache);

/// <summary>Every configuration tune measured, and the cheapest that reached the target, if any.</summary>
internal sealed record TuneResult(IReadOnlyList<BenchRow> Tried, BenchRow? Winner, string TruthSource, string BackendSettings);

/// <summary>
/// Finds the cheapest configuration that reaches a target recall: for each strategy (full, rerank in process, rerank in
/// the database) and prefix size, oversampling rises until the target is met, and for each oversampling ef_search rises
/// until it is. Higher settings cost more, so a met target ends that line of the search. The winner is the fastest
/// configuration that met the target, measured with one client.
/// </summary>
internal static class Tuner
{
    public static async Task<TuneResult> RunAsync(BenchDataset data, IBenchBackend backend, TuneSettings settings, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var tried = new List<BenchRow>();
        var bench = new BenchSettings(settings.K, BenchStrategy.All, settings.PrefixDims, settings.Oversampling, settings.EfSearch, 1, settings.Warmup,
            settings.TruthCache, 0, settings.TargetRecall, "");
        var (truth, truthSource) = BenchRunner.ComputeTruth(data, bench, progress);
        await backend.PrepareAsync(settings.PrefixDims, progress, cancellationToken);
        var searching = progress.AddTask("Tuning", maxValue: 1);

        async Task<BenchRow> MeasureAsync(BenchConfiguration configuration)
        {
            searching.Description = $"Tuning: {configuration}";
            await using var lease = await backend.OpenAsync(configuration, progress, cancellationToken);
            var m = await Measurement.RunAsync(lease.Search, configuration.ToSearchOptions(settings.K), data.Queries, truth, 1, settings.Warmup, null, backend.SampleServerCpuAsync, cancellationToken);
            var row = BenchRow.FromRounds(backend.Name, configuration, [m], backend.IndexCost(configuration), data.Count, data.Dimensions, settings.K);
            tried.Add(row);
            return row;
        }

        // Climbs ef_search until the target is met, or until recall stops rising (then the candidates, not the graph search,
        // limit it). Says whether the target was met at the lowest setting, past which more oversampling only costs.
        async Task<bool> ClimbEfSearchAsync(string strategy, int? p, int oversampling)
        {
            var efs = EfSettings(backend.Features, settings.EfSearch, settings.K * oversampling);
            var previous = double.NegativeInfinity;
            for (var i = 0; i < efs.Count; i++)
            {
                var recall = (await MeasureAsync(new BenchConfiguration(strategy, p, oversampling, efs[i]))).Result.Recall;
                if (recall >= settings.TargetRecall)
                {
                    return i == 0;
                }

                if (recall < previous + 0.001)
                {
                    break;
                }

                previous = recall;
            }

            return false;
        }

        if (!backend.Features.Unsupported.ContainsKey(BenchStrategy.Full))
        {
            await ClimbEfSearchAsync(BenchStrategy.Full, null, 1);
        }

        foreach (var strategy in new[] { BenchStrategy.TwoPass, BenchStrategy.TwoPassInDatabase }.Where(s => !backend.Features.Unsupported.ContainsKey(s)))
        {
            foreach (var p in settings.PrefixDims)
            {
                foreach (var oversampling in settings.Oversampling.Order())
                {
                    if (await ClimbEfSearchAsync(strategy, p, oversampling))
                    {
                        break;
                    }
                }
            }
        }

        searching.Description = string.Create(CultureInfo.InvariantCulture, $"Tuned: {tried.Count} configurations measured");
        searching.Value = 1;
        searching.StopTask();

        var winner = tried.Where(r => r.Result.Recall >= settings.TargetRecall)
            .OrderByDescending(r => r.Result.Qps).ThenBy(r => r.Result.PrefixDims ?? int.MaxValue).FirstOrDefault();
        return new TuneResult(tried, winner, truthSource, backend.Settings);
    }

    public static SearchProfile ToProfile(BenchRow winner, BenchDataset data, TuneSettings settings, string backend) => new()
    {
        FullDimensions = data.Dimensions,
        PrefixDimensions = winner.Configuration.PrefixDims ?? settings.PrefixDims.Min(),
        Metric = data.Metric,
        K = settings.K,
        Oversampling = winner.Configuration.Oversampling,
        EfSearch = winner.Configuration.EfSearch,
        Strategy = BenchStrategy.SearchStrategyOf(winner.Configuration.Strategy),
        TargetRecall = settings.TargetRecall,
        MeasuredRecall = winner.Result.Recall,
        MeasuredQps = winner.Result.Qps,
        Backend = backend,
        CreatedAt = DateTimeOffset.Now,
    };

    // The distinct ef_search values that run for this many candidates, lowest first; one null for an exact scan.
    private static List<int?> EfSettings(BackendFeatures features, IReadOnlyList<int> efSearch, int candidates) => features.EfSearch
        ? efSearch.Select(ef => (int?)Math.Min(features.MaxEfSearch, Math.Max(ef, candidates))).Distinct().Order().ToList()
        : [null];
}
