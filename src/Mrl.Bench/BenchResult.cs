namespace Mrl.Bench;

/// <summary>One measured configuration: an object of <c>results.json</c>, with exactly these fields.</summary>
/// <param name="Backend"><c>memory</c>, <c>postgres</c> or <c>qdrant</c>.</param>
/// <param name="Strategy">One of <see cref="BenchStrategy"/>.</param>
/// <param name="PrefixDims">Prefix dimensions of pass 1; null for <c>full</c>.</param>
/// <param name="Oversampling">Candidates = k × oversampling; 1 without a pass 2.</param>
/// <param name="EfSearch">The ef_search that ran (raised to the candidate count); null for an exact scan.</param>
/// <param name="K">Hits per query.</param>
/// <param name="Recall">Mean recall@k against exact full-dimension kNN.</param>
/// <param name="Qps">Queries per second, all clients together.</param>
/// <param name="Clients">Concurrent clients.</param>
/// <param name="P50Ms">Median latency, ms.</param>
/// <param name="P95Ms">95th percentile latency, ms.</param>
/// <param name="P99Ms">99th percentile latency, ms.</param>
/// <param name="BuildSeconds">Build time of the index searched; null when there is none.</param>
/// <param name="IndexBytes">Size of the index searched (in memory: the array scanned).</param>
/// <param name="BytesPerQuery">Mean bytes of full vectors pass 1 moved to this process per query.</param>
/// <param name="N">Base vectors.</param>
/// <param name="Dims">Full dimensions.</param>
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
    int Dims);

/// <summary>A result with the figures behind it that <c>results.json</c> does not carry.</summary>
internal sealed record BenchRow(BenchResult Result, BenchConfiguration Configuration, Measurement Measurement);
