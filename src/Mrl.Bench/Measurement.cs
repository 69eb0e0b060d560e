using System.Diagnostics;
using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>What one configuration measured over the query set.</summary>
/// <param name="Recall">Mean recall@k against exact full-dimension kNN.</param>
/// <param name="Qps">Queries completed per second of wall time, all clients together.</param>
/// <param name="P50Ms">Median latency of one search.</param>
/// <param name="P95Ms">95th percentile latency.</param>
/// <param name="P99Ms">99th percentile latency.</param>
/// <param name="BytesPerQuery">Mean bytes of full vectors moved to this process per search (<see cref="SearchDiagnostics.BytesFetched"/>).</param>
/// <param name="Pass1Ms">Mean time of pass 1 (for a single pass, the whole search).</param>
/// <param name="CandidatesPerQuery">Mean candidates pass 1 returned.</param>
/// <param name="Queries">Searches measured.</param>
/// <param name="Clients">Concurrent clients.</param>
/// <param name="DbCpuMsPerQuery">CPU time the database server's backends spent per search, ms; null where it cannot be read.</param>
internal sealed record Measurement(
    double Recall, double Qps, double P50Ms, double P95Ms, double P99Ms, double BytesPerQuery, double Pass1Ms, double CandidatesPerQuery, int Queries, int Clients,
    double? DbCpuMsPerQuery = null)
{
    /// <summary>
    /// Runs every query once, from <paramref name="clients"/> concurrent clients that take the next query as they finish one,
    /// after <paramref name="warmup"/> untimed queries (JIT, connection pool, caches that should be warm), shared among the
    /// clients so that every connection they need is open before the clock starts. <paramref name="sampleServerCpu"/>, when
    /// given, is read just before and just after the timed queries.
    /// </summary>
    public static async Task<Measurement> RunAsync(
        BenchSearch search, SearchOptions options, VectorMatrix<float> queries, VectorMatrix<int> truth, int clients, int warmup,
        Action? queryDone, Func<CancellationToken, Task<ServerCpuSample?>>? sampleServerCpu, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clients, 1);
        var warm = -1;
        var warmCount = Math.Min(warmup, queries.Rows);
        await Task.WhenAll(Enumerable.Range(0, Math.Min(clients, Math.Max(warmCount, 1))).Select(_ => Task.Run(async () =>
        {
            int q;
            while ((q = Interlocked.Increment(ref warm)) < warmCount)
            {
                await search(queries.Row(q), options, cancellationToken);
            }
        }, cancellationToken)));

        var cpuBefore = sampleServerCpu is null ? null : await sampleServerCpu(cancellationToken);

        var count = queries.Rows;
        var latencies = new double[count];
        var recalls = new double[count];
        var bytes = new long[count];
        var pass1 = new double[count];
        var candidates = new int[count];
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Min(clients, count)).Select(_ => Task.Run(async () =>
        {
            int q;
            while ((q = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                var result = await search(queries.Row(q), options, cancellationToken);
                latencies[q] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                recalls[q] = RecallAtK(truth.RowSpan(q), result.Hits);
                bytes[q] = result.Diagnostics.BytesFetched;
                pass1[q] = result.Diagnostics.Pass1Time.TotalMilliseconds;
                candidates[q] = result.Diagnostics.CandidatesFetched;
                queryDone?.Invoke();
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuAfter = cpuBefore is null ? null : await sampleServerCpu!(cancellationToken);

        Array.Sort(latencies);
        return new Measurement(
            recalls.Average(),
            count / elapsed,
            Percentile(latencies, 0.50),
            Percentile(latencies, 0.95),
            Percentile(latencies, 0.99),
            bytes.Average(),
            pass1.Average(),
            candidates.Average(),
            count,
            clients,
            cpuAfter is null ? null : ServerCpuSample.MillisecondsBetween(cpuBefore!, cpuAfter) / count);
    }

    /// <summary>The fraction of the true neighbours among the hits.</summary>
    public static double RecallAtK(ReadOnlySpan<int> truth, IReadOnlyList<SearchHit<long>> hits)
    {
        if (truth.IsEmpty)
        {
            return 1;
        }

        var found = 0;
        foreach (var id in truth)
        {
            for (var i = 0; i < hits.Count; i++)
            {
                if (hits[i].Key == id)
                {
                    found++;
                    break;
                }
            }
        }

        return found / (double)truth.Length;
    }

    /// <summary>The value below which <paramref name="fraction"/> of the sorted samples fall (nearest rank); 0 without samples.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double fraction)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(fraction * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }
}
