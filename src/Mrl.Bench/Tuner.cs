using System.Globalization;
using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>What <c>mrl tune</c> searches over.</summary>
/// <summary>What tune searches: the target, the settings to climb through, and the strategies it may pick from.</summary>
internal sealed record TuneSettings(
    int K, double TargetRecall, IReadOnlyList<int> PrefixDims, IReadOnlyList<int> Oversampling, IReadOnlyList<int> EfSearch, int Warmup, string? TruthCache,
    IReadOnlyList<string> Strategies)
{
    /// <summary>The strategies a profile can hold, in the order tune tries them.</summary>
    public static readonly IReadOnlyList<string> Tunable = [BenchStrategy.Full, BenchStrategy.TwoPass, BenchStrategy.TwoPassInDatabase];
}

/// <summary>
/// Every configuration tune measured, and the cheapest that reached the target, if any, with its QPS over the rounds it
/// was measured in; notes say when the lead of a faster configuration was within the noise, or the data shows no
/// Matryoshka structure.
/// </summary>
internal sealed record TuneResult(IReadOnlyList<BenchRow> Tried, BenchRow? Winner, double WinnerQps, IReadOnlyList<string> Notes, string TruthSource, string BackendSettings);

/// <summary>
/// Finds the cheapest configuration that reaches a target recall: for each strategy (full, rerank in process, rerank in
/// the database) and prefix size, oversampling rises until the target is met, and for each oversampling ef_search rises
/// until it is. Higher settings cost more, so a met target ends that line of the search. The configurations that met the
/// target within <see cref="ContenderShare"/> of the fastest are measured again, in turns, for <see cref="ExtraRounds"/>
/// more rounds, and <see cref="TuneChoice"/> picks among them with one client.
/// </summary>
internal static class Tuner
{
    /// <summary>More rounds for the configurations in contention: enough to see the spread of one measurement.</summary>
    public const int ExtraRounds = 3;

    /// <summary>Configurations this close to the fastest (in QPS) are measured again.</summary>
    public const double ContenderShare = 0.75;

    /// <summary>Two-pass recall this far below the target, at the most candidates tried, while full met it: no Matryoshka structure.</summary>
    public const double FarBelow = 0.1;

    private const int MaxContenders = 6;

    public static async Task<TuneResult> RunAsync(BenchDataset data, IBenchBackend backend, TuneSettings settings, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var tried = new List<BenchRow>();
        var bench = new BenchSettings(settings.K, BenchStrategy.All, settings.PrefixDims, settings.Oversampling, settings.EfSearch, 1, settings.Warmup,
            settings.TruthCache, 0, settings.TargetRecall, "");
        var (truth, truthSource) = BenchRunner.ComputeTruth(data, bench, progress);
        await backend.PrepareAsync(settings.PrefixDims, progress, cancellationToken);
        var searching = progress.AddTask("Tuning", maxValue: 1);

        async Task<BenchRow> MeasureAsync(BenchConfiguration configuration, string step = "Tuning")
        {
            searching.Description = $"{step}: {configuration}";
            await using var lease = await backend.OpenAsync(configuration, progress, cancellationToken);
            var m = await Measurement.RunAsync(lease.Search, configuration.ToSearchOptions(settings.K), data.Queries, truth, 1, settings.Warmup, null, backend.SampleServerCpuAsync, cancellationToken);
            return BenchRow.FromRounds(backend.Name, configuration, [m], backend.IndexCost(configuration), data.Count, data.Dimensions, settings.K);
        }

        // Climbs ef_search until the target is met, or until recall stops rising (then the candidates, not the graph search,
        // limit it). Says whether the target was met at the lowest setting, past which more oversampling only costs.
        async Task<bool> ClimbEfSearchAsync(string strategy, int? p, int oversampling)
        {
            var efs = EfSettings(backend.Features, settings.EfSearch, settings.K * oversampling);
            var previous = double.NegativeInfinity;
            for (var i = 0; i < efs.Count; i++)
            {
                var row = await MeasureAsync(new BenchConfiguration(strategy, p, oversampling, efs[i]));
                tried.Add(row);
                var recall = row.Result.Recall;
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

        if (settings.Strategies.Contains(BenchStrategy.Full) && !backend.Features.Unsupported.ContainsKey(BenchStrategy.Full))
        {
            await ClimbEfSearchAsync(BenchStrategy.Full, null, 1);
        }

        foreach (var strategy in new[] { BenchStrategy.TwoPass, BenchStrategy.TwoPassInDatabase }.Where(s => settings.Strategies.Contains(s) && !backend.Features.Unsupported.ContainsKey(s)))
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

        var met = tried.Where(r => r.Result.Recall >= settings.TargetRecall).OrderByDescending(r => r.Result.Qps).ToList();
        var contenders = met.Where(r => r.Result.Qps >= met[0].Result.Qps * ContenderShare).Take(MaxContenders)
            .Select(r => (Row: r, Qps: new List<double> { r.Result.Qps })).ToList();
        for (var round = 1; contenders.Count > 1 && round <= ExtraRounds; round++)
        {
            foreach (var (row, qps) in contenders)
            {
                qps.Add((await MeasureAsync(row.Configuration, string.Create(CultureInfo.InvariantCulture, $"Round {round + 1} of {ExtraRounds + 1}"))).Result.Qps);
            }
        }

        searching.Description = string.Create(CultureInfo.InvariantCulture, $"Tuned: {tried.Count} configurations measured");
        searching.Value = 1;
        searching.StopTask();

        var notes = new List<string>();
        BenchRow? winner = null;
        var winnerQps = 0.0;
        if (contenders.Count > 0)
        {
            var (chosen, fastest) = TuneChoice.Choose(contenders.Select(c => new Contender(c.Row, c.Qps)).ToList());
            winner = chosen.Row;
            winnerQps = Math.Round(chosen.MeanQps, 1);
            if (contenders.Count > 1)
            {
                notes.Add(chosen == fastest
                    ? string.Create(CultureInfo.InvariantCulture,
                        $"QPS over {ExtraRounds + 1} rounds: {string.Join("; ", contenders.Select(c => new Contender(c.Row, c.Qps)))}. {fastest.Row.Configuration} leads by more than the spread.")
                    : string.Create(CultureInfo.InvariantCulture,
                        $"Within the noise: {fastest} is not faster than {chosen} by more than the spread of {ExtraRounds + 1} rounds, so tune picks the simpler {chosen.Row.Configuration}."));
            }
        }

        if (NoMatryoshkaStructure(tried, settings) is { } note)
        {
            notes.Add(note);
        }

        return new TuneResult(tried, winner, winnerQps, notes, truthSource, backend.Settings);
    }

    /// <summary>
    /// A note when full met the target while two-pass, at the most candidates tried, stayed far below it: the prefix of
    /// these vectors does not rank like the full vector, as it does for a model trained with a Matryoshka loss.
    /// </summary>
    public static string? NoMatryoshkaStructure(IReadOnlyList<BenchRow> tried, TuneSettings settings)
    {
        var full = tried.Where(r => r.Configuration.Strategy == BenchStrategy.Full && r.Result.Recall >= settings.TargetRecall).MaxBy(r => r.Result.Recall);
        var most = settings.Oversampling.Max();
        var twoPass = tried.Where(r => r.Configuration.Strategy is BenchStrategy.TwoPass or BenchStrategy.TwoPassInDatabase && r.Configuration.Oversampling == most)
            .MaxBy(r => r.Result.Recall);
        if (full is null || twoPass is null || twoPass.Result.Recall >= settings.TargetRecall - FarBelow)
        {
            return null;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"No Matryoshka structure: full reached recall {full.Result.Recall:F4}, but two-pass at the most candidates tried ({twoPass.Configuration}) only {twoPass.Result.Recall:F4}. ") +
            "The first dimensions of these vectors do not rank like the whole vector, so a plain prefix will not serve this model: " +
            "search the full vectors (the profile does), or use a model trained with a Matryoshka loss. See docs/benchmarks.md, \"When the data has no Matryoshka structure\".";
    }

    public static SearchProfile ToProfile(BenchRow winner, double qps, BenchDataset data, TuneSettings settings, string backend) => new()
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
        MeasuredQps = qps,
        Backend = backend,
        CreatedAt = DateTimeOffset.Now,
    };

    // The distinct ef_search values that run for this many candidates, lowest first; one null for an exact scan.
    private static List<int?> EfSettings(BackendFeatures features, IReadOnlyList<int> efSearch, int candidates) => features.EfSearch
        ? efSearch.Select(ef => (int?)Math.Min(features.MaxEfSearch, Math.Max(ef, candidates))).Distinct().Order().ToList()
        : [null];
}
