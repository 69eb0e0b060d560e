namespace Mrl.Adapters.Caching;

/// <summary>The counters of one lock stripe of a cache; callers hold the stripe's lock.</summary>
internal abstract class CacheStripe
{
    public long Hits { get; protected set; }

    public long Misses { get; protected set; }

    public long Stale { get; protected set; }

    public long Evictions { get; protected set; }

    public abstract int Count { get; }

    /// <summary>Bytes this stripe holds beyond bookkeeping; 0 where the cache reports its size as a whole.</summary>
    public virtual long AllocatedBytes => 0;

    /// <summary>Sums the stripes' counters, locking each in turn.</summary>
    public static FullVectorCacheStatistics Total(IEnumerable<CacheStripe> stripes, long fixedBytes, long bytesPerEntry)
    {
        long hits = 0, misses = 0, stale = 0, evictions = 0, count = 0, bytes = fixedBytes;
        foreach (var stripe in stripes)
        {
            lock (stripe)
            {
                hits += stripe.Hits;
                misses += stripe.Misses;
                stale += stripe.Stale;
                evictions += stripe.Evictions;
                count += stripe.Count;
                bytes += stripe.AllocatedBytes + (stripe.Count * bytesPerEntry);
            }
        }

        return new FullVectorCacheStatistics(hits, misses, stale, evictions, count, bytes);
    }
}
