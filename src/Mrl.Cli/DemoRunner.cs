using System.Diagnostics;
using Mrl.Adapters;
using Mrl.Adapters.Synthetic;

namespace Mrl.Cli;

/// <summary>
/// Loads a synthetic MRL-like corpus into a store, computes exact full-dimension ground truth,
/// and measures each search strategy's recall@k and latency.
/// </summary>
internal sealed class DemoRunner(SyntheticCorpusOptions corpusOptions, int count, int queryCount, int k)
{
    public float[] Corpus { get; private set; } = [];

    public float[] Queries { get; private set; } = [];

    public int[][] Truth { get; private set; } = [];

    public void Generate()
    {
        var corpus = new SyntheticCorpus(corpusOptions);
        Corpus = corpus.Generate(count, stream: 0);
        Queries = corpus.Generate(queryCount, stream: 1);
    }

    public void ComputeTruth(DistanceMetric metric)
    {
        var d = corpusOptions.Dimensions;
        Truth = new int[queryCount][];
        for (var q = 0; q < queryCount; q++)
        {
            Truth[q] = ExactKnn.Search(Corpus, count, d, Queries.AsMemory(q * d, d), k, metric).Select(h => h.Index).ToArray();
        }
    }

    public async Task LoadAsync(IAdaptiveStore<long> store, int batchSize, Action<int> progress, CancellationToken cancellationToken)
    {
        var d = corpusOptions.Dimensions;
        await store.EnsureSchemaAsync(cancellationToken);
        for (var start = 0; start < count; start += batchSize)
        {
            var end = Math.Min(count, start + batchSize);
            var batch = new VectorRecord<long>[end - start];
            for (var i = start; i < end; i++)
            {
                batch[i - start] = new VectorRecord<long>(i, Corpus.AsMemory(i * d, d));
            }

            await store.UpsertAsync(batch, cancellationToken);
            progress(end);
        }
    }

    /// <summary>Runs untimed queries, so that JIT tiering, thread-pool growth and cold caches stay out of the figures.</summary>
    public async Task WarmUpAsync(IAdaptiveStore<long> store, SearchOptions options, CancellationToken cancellationToken)
    {
        var d = corpusOptions.Dimensions;
        for (var q = 0; q < Math.Min(queryCount, 50); q++)
        {
            await store.SearchAsync(Queries.AsMemory(q * d, d), options, cancellationToken);
        }
    }

    public async Task<Evaluation> EvaluateAsync(IAdaptiveStore<long> store, string name, SearchOptions options, CancellationToken cancellationToken)
    {
        var d = corpusOptions.Dimensions;
        var latencies = new double[queryCount];
        double recall = 0, candidates = 0;

        for (var q = 0; q < queryCount; q++)
        {
            var start = Stopwatch.GetTimestamp();
            var result = await store.SearchAsync(Queries.AsMemory(q * d, d), options, cancellationToken);
            latencies[q] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            recall += Evaluation.RecallAtK(Truth[q].Select(i => (long)i).ToArray(), result.Hits.Select(h => h.Key));
            candidates += result.Diagnostics.CandidatesFetched;
        }

        Array.Sort(latencies);
        return new Evaluation(name, options.Reranks ? options.Oversampling : 1,
            recall / queryCount, latencies.Average(), Evaluation.Percentile(latencies, 0.95), candidates / queryCount);
    }
}
