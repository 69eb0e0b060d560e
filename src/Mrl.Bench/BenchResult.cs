namespace Mrl.Bench;

/// <summary>
/// One measured configuration: an object of <c>results.json</c>, with exactly these fields. Measured once per round; the
/// figures are the medians over the rounds, with the lowest and highest round where a spread is given.
/// </summary>
/// <param name="Backend"><c>memory</c>, <c>postgres</c> or <c>qdrant</c>.</param>
/// <param name="Strategy">One of <see cref="BenchStrategy"/>.</param>
/// <param name="PrefixDims">Prefix dimensions of pass 1; null for <c>full</c>.</param>
/// <param name="Oversampling">Candidates = k × oversampling; 1 without a pass 2.</param>
/// <param name="EfSearch">The ef_search that ran (raised to the candidate count); null for an exact scan.</param>
/// <param name="K">Hits per query.</param>
/// <param name="Recall">Mean recall@k against exact full-dimension kNN (median over rounds).</param>
/// <param name="Qps">Queries per second, all clients together (median over rounds).</param>
/// <param name="Clients">Concurrent clients.</param>
/// <param name="P50Ms">Median latency, ms.</param>
/// <param name="P95Ms">95th percentile latency, ms.</param>
/// <param name="P99Ms">99th percentile latency, ms.</param>
/// <param name="BuildSeconds">Build time of the index searched; null when there is none.</param>
/// <param name="IndexBytes">Size of the index searched (in memory: the array scanned).</param>
/// <param name="BytesPerQuery">Mean bytes of full vectors pass 1 moved to this process per query.</param>
/// <param name="N">Base vectors.</param>
/// <param name="Dims">Full dimensions.</param>
/// <param name="Rounds">Rounds measured.</param>
/// <param name="QpsMin">The lowest round's QPS.</param>
/// <param name="QpsMax">The highest round's QPS.</param>
/// <param name="P50MsMin">The lowest round's median latency.</param>
/// <param name="P50MsMax">The highest round's median latency.</param>
/// <param name="RecallMin">The lowest round's recall.</param>
/// <param name="RecallMax">The highest round's recall.</param>
/// <param name="DbCpuMsPerQuery">CPU ms the database server's backends spent per search (median); null without a local database server.</param>
/// <param name="DbCpuMsPerQueryMin">The lowest round's database CPU per search.</param>
/// <param name="DbCpuMsPerQueryMax">The highest round's database CPU per search.</param>
internal sealed record BenchResult(
    string Backend,
    string Strategy,
    int? PrefixDims,
    int Oversampling,
    int? EfSearch,
    int K,
    double Recall,
    double Qps,
    int Clients,
    double P50Ms,
    double P95Ms,
    double P99Ms,
    double? BuildSeconds,
    long? IndexBytes,
    double BytesPerQuery,
    int N,
    int Dims,
    int Rounds,
    double QpsMin,
    double QpsMax,
    double P50MsMin,
    double P50MsMax,
    double RecallMin,
    double RecallMax,
    double? DbCpuMsPerQuery,
    double? DbCpuMsPerQueryMin,
    double? DbCpuMsPerQueryMax);

/// <summary>A result with the figures behind it that <c>results.json</c> does not carry.</summary>
/// <param name="Result">The medians and spreads.</param>
/// <param name="Configuration">What ran.</param>
/// <param name="Measurement">The round with the median QPS (its pass-1 time and candidates go to run.json).</param>
/// <param name="Rounds">Every round's measurement, in the order measured.</param>
internal sealed record BenchRow(BenchResult Result, BenchConfiguration Configuration, Measurement Measurement, IReadOnlyList<Measurement> Rounds)
{
    /// <summary>Sums up the rounds of one configuration.</summary>
    /// <exception cref="ArgumentException">There are no rounds.</exception>
    public static BenchRow FromRounds(string backend, BenchConfiguration configuration, IReadOnlyList<Measurement> rounds, (double? Seconds, long? Bytes) cost, int n, int dims, int k)
    {
        if (rounds.Count == 0)
        {
            throw new ArgumentException("A result needs at least one round.", nameof(rounds));
        }

        var qps = Spread.Of(rounds.Select(m => m.Qps));
        var p50 = Spread.Of(rounds.Select(m => m.P50Ms));
        var recall = Spread.Of(rounds.Select(m => m.Recall));
        var cpu = Spread.OfPresent(rounds.Select(m => m.DbCpuMsPerQuery));
        var median = rounds.OrderBy(m => m.Qps).ElementAt(rounds.Count / 2);
        var result = new BenchResult(
            backend,
            configuration.Strategy,
            configuration.PrefixDims,
            configuration.Oversampling,
            configuration.EfSearch,
            k,
            Math.Round(recall.Median, 4),
            Math.Round(qps.Median, 1),
            median.Clients,
            Math.Round(p50.Median, 3),
            Math.Round(Spread.Of(rounds.Select(m => m.P95Ms)).Median, 3),
            Math.Round(Spread.Of(rounds.Select(m => m.P99Ms)).Median, 3),
            cost.Seconds is { } s ? Math.Round(s, 2) : null,
            cost.Bytes,
            Math.Round(Spread.Of(rounds.Select(m => m.BytesPerQuery)).Median),
            n,
            dims,
            rounds.Count,
            Math.Round(qps.Min, 1),
            Math.Round(qps.Max, 1),
            Math.Round(p50.Min, 3),
            Math.Round(p50.Max, 3),
            Math.Round(recall.Min, 4),
            Math.Round(recall.Max, 4),
            cpu is { } c ? Math.Round(c.Median, 4) : null,
            cpu is { } lo ? Math.Round(lo.Min, 4) : null,
            cpu is { } hi ? Math.Round(hi.Max, 4) : null);
        return new BenchRow(result, configuration, median, rounds);
    }
}
