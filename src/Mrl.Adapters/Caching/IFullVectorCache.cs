namespace Mrl.Adapters.Caching;

/// <summary>What a cache lookup found.</summary>
public enum CacheLookup
{
    /// <summary>The key was cached at the requested version; the vector was copied out.</summary>
    Hit,

    /// <summary>The key is not cached.</summary>
    Miss,

    /// <summary>The key is cached at another version: the row changed, and the vector must be fetched again.</summary>
    Stale,
}

/// <summary>
/// Full vectors kept next to the reranker, keyed by record key and row version, so that pass 2 can run without
/// fetching full vectors from the database. A version that differs from the cached one is never served.
/// </summary>
public interface IFullVectorCache<TKey> where TKey : notnull
{
    /// <summary>The length of every vector the cache holds.</summary>
    int Dimensions { get; }

    /// <summary>Copies the vector of <paramref name="key"/> at <paramref name="version"/> into <paramref name="destination"/>, if cached.</summary>
    CacheLookup TryGet(TKey key, long version, Span<float> destination);

    /// <summary>Whether <paramref name="key"/> is cached at <paramref name="version"/>, without copying it or counting a lookup.</summary>
    bool Contains(TKey key, long version);

    /// <summary>Stores (or replaces) the vector of <paramref name="key"/> at <paramref name="version"/>, evicting others if the budget requires.</summary>
    void Put(TKey key, long version, ReadOnlySpan<float> fullVector);

    /// <summary>Drops every entry.</summary>
    void Clear();

    /// <summary>Counters and size, as of now.</summary>
    FullVectorCacheStatistics Statistics { get; }
}

/// <summary>How a cache has done since it was created.</summary>
/// <param name="Hits">Lookups served from the cache.</param>
/// <param name="Misses">Lookups of keys not cached.</param>
/// <param name="Stale">Lookups that found an older version, which was not served.</param>
/// <param name="Evictions">Entries evicted to stay within the budget.</param>
/// <param name="Count">Entries held.</param>
/// <param name="BytesHeld">Bytes of vector storage allocated, plus bookkeeping per entry.</param>
public sealed record FullVectorCacheStatistics(long Hits, long Misses, long Stale, long Evictions, long Count, long BytesHeld);
