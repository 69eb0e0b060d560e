using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters;

/// <summary>
/// Composes a backend's pass 1 with the core's pass 2: fetch <c>K × Oversampling</c> candidates on the prefix,
/// rescore them exactly on the full vectors, keep the best K.
/// </summary>
public static class TwoPassRetriever
{
    /// <summary>Runs a search with pass 2 in process (<see cref="SearchStrategy.TwoPass"/>) or without pass 2 (<see cref="SearchStrategy.PrefixOnly"/>).</summary>
    /// <exception cref="ArgumentException">The query is invalid for the layout.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The options ask for another strategy, which the store itself must run.</exception>
    public static async Task<SearchResult<TKey>> SearchAsync<TKey>(
        EmbeddingLayout layout, ICandidateSource<TKey> source, ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Strategy is not (SearchStrategy.TwoPass or SearchStrategy.PrefixOnly))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The two-pass retriever runs SearchStrategy.TwoPass and SearchStrategy.PrefixOnly; the store runs the other strategies.");
        }

        layout.Validate(query.Span, "the query");
        var rerank = options.Strategy == SearchStrategy.TwoPass;
        var request = new CandidateRequest(layout.ToPrefix(query.Span), options.CandidateCount, options.Filter, rerank, options.EfSearch);

        // The stopwatches run inside the spans, so that the diagnostics never count the telemetry's own cost.
        CandidateBatch<TKey> batch;
        TimeSpan pass1;
        using (var pass1Activity = MrlTelemetry.StartPass1(request))
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                batch = await source.FetchCandidatesAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                MrlTelemetry.SetError(pass1Activity, e);
                throw;
            }

            pass1 = Stopwatch.GetElapsedTime(start);
            MrlTelemetry.StopPass1(pass1Activity, batch);
        }

        using var vectors = batch.Vectors;
        if (!rerank)
        {
            var prefixHits = batch.Candidates.Take(options.K).Select(c => new SearchHit<TKey>(c.Key, c.PrefixScore, c.Payload)).ToArray();
            return new SearchResult<TKey>(prefixHits, new SearchDiagnostics
            {
                CandidatesFetched = batch.Candidates.Count,
                Pass1Time = pass1,
                BytesFetched = batch.BytesFetched,
                Strategy = SearchStrategy.PrefixOnly,
            });
        }

        SearchHit<TKey>[] hits;
        TimeSpan pass2;
        using (var pass2Activity = MrlTelemetry.StartPass2(batch.Candidates.Count, options.K))
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                hits = RerankExact(layout, query.Span, batch.Candidates, options.K);
            }
            catch (Exception e)
            {
                MrlTelemetry.SetError(pass2Activity, e);
                throw;
            }

            pass2 = Stopwatch.GetElapsedTime(start);
        }
        return new SearchResult<TKey>(hits, new SearchDiagnostics
        {
            CandidatesFetched = batch.Candidates.Count,
            Pass1Time = pass1,
            Pass2Time = pass2,
            BytesFetched = batch.BytesFetched,
            Cache = batch.Cache,
            Strategy = SearchStrategy.TwoPass,
        });
    }

    /// <summary>Pass 2: scores every candidate on its full vector and returns the best <paramref name="k"/>, best first.</summary>
    /// <exception cref="InvalidOperationException">A candidate came without a full vector of the layout's length.</exception>
    public static SearchHit<TKey>[] RerankExact<TKey>(EmbeddingLayout layout, ReadOnlySpan<float> query, IReadOnlyList<Candidate<TKey>> candidates, int k)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0)
        {
            return [];
        }

        var top = new TopK(Math.Min(k, candidates.Count));
        for (var i = 0; i < candidates.Count; i++)
        {
            var full = candidates[i].FullVector.Span;
            if (full.Length != layout.FullDimensions)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Candidate {candidates[i].Key} came with {full.Length} full-vector values; the layout has {layout.FullDimensions}."));
            }

            top.Offer(layout.Score(query, full), i);
        }

        var best = top.ToSortedDescending();
        var hits = new SearchHit<TKey>[best.Length];
        for (var i = 0; i < best.Length; i++)
        {
            var c = candidates[best[i].Id];
            hits[i] = new SearchHit<TKey>(c.Key, best[i].Score, c.Payload);
        }

        return hits;
    }
}
