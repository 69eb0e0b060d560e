namespace Mrl.Adapters;

/// <summary>The candidates pass 1 returned, best first by prefix score, and how many bytes of vectors it moved.</summary>
/// <param name="Candidates">The candidates.</param>
/// <param name="BytesFetched">Bytes of full-vector data transferred for pass 2; 0 when unknown.</param>
public sealed record CandidateBatch<TKey>(IReadOnlyList<Candidate<TKey>> Candidates, long BytesFetched) where TKey : notnull
{
    /// <summary>How the full-vector cache served this batch, when the store has one.</summary>
    public CacheDiagnostics? Cache { get; init; }

    /// <summary>
    /// The pooled buffer the candidates' full vectors live in, when the source used one. Whoever consumes the batch
    /// disposes it once pass 2 is done; <see cref="TwoPassRetriever"/> does.
    /// </summary>
    public CandidateVectorBuffer? Vectors { get; init; }
}

/// <summary>How a full-vector cache served one search.</summary>
/// <param name="Hits">Candidates whose full vector came from the cache at the row's current version.</param>
/// <param name="Misses">Candidates not in the cache, fetched from the database.</param>
/// <param name="Stale">Candidates cached at an older version, fetched again and never reranked with the old vector.</param>
/// <param name="FetchTime">Time spent fetching misses and stale entries in one batched query.</param>
/// <param name="BytesHeld">The cache's size after the search.</param>
public sealed record CacheDiagnostics(int Hits, int Misses, int Stale, TimeSpan FetchTime, long BytesHeld);
