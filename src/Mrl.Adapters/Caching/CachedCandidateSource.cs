using System.Globalization;
using System.Diagnostics;

namespace Mrl.Adapters.Caching;

/// <summary>
/// Pass 1 through a full-vector cache, for any store that implements <see cref="IVersionedCandidateSource{TKey}"/>: the store
/// returns keys and row versions, the cache serves the full vectors it holds at those versions, and the misses are fetched in
/// one query. While the recent hit rate is below one half (a cold cache), pass 1 fetches every full vector itself and fills
/// the cache, which costs no more than a search without a cache.
/// </summary>
/// <remarks>
/// A row deleted since pass 1 is not found by the miss query and drops out; a row updated since is reranked with its newer
/// vector. An older vector than pass 1 saw is never used. A row whose version is <see cref="RowVersion.Unknown"/> is
/// always fetched and never cached.
/// </remarks>
public sealed class CachedCandidateSource<TKey> : ICandidateSource<TKey> where TKey : notnull
{
    private const int InitialRowCapacity = 256;
    private readonly IVersionedCandidateSource<TKey> _source;
    private double _recentHitRate;

    /// <summary>Puts <paramref name="cache"/> in front of <paramref name="source"/>.</summary>
    /// <exception cref="ArgumentException">The cache holds vectors of another length than the source's full vectors.</exception>
    public CachedCandidateSource(IVersionedCandidateSource<TKey> source, IFullVectorCache<TKey> cache)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(cache);
        if (cache.Dimensions != source.FullDimensions)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The cache holds {cache.Dimensions}-dimension vectors; the layout has {source.FullDimensions}."), nameof(cache));
        }

        _source = source;
        Cache = cache;

        // A cache that already holds vectors (a memory-mapped file from an earlier run) starts warm.
        _recentHitRate = cache.Statistics.Count > 0 ? 1 : 0;
    }

    /// <summary>The cache.</summary>
    public IFullVectorCache<TKey> Cache { get; }

    /// <summary>The share of recent candidates the cache served, smoothed over searches (0 to 1).</summary>
    public double RecentHitRate => Volatile.Read(ref _recentHitRate);

    /// <summary>Tells the source that the cache now holds the store's vectors (after a warm-up), so that pass 1 stops fetching them.</summary>
    public void MarkWarm() => Volatile.Write(ref _recentHitRate, 1);

    /// <inheritdoc />
    public async ValueTask<CandidateBatch<TKey>> FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var d = _source.FullDimensions;
        var rows = new List<VersionedCandidate<TKey>>(Math.Min(request.Count, InitialRowCapacity));
        if (RecentHitRate < 0.5)
        {
            var fetched = new CandidateVectorBuffer(request.Count, d);
            var bytesThrough = await _source.ReadVersionedCandidatesAsync(request, rows, fetched, cancellationToken).ConfigureAwait(false);
            var wouldHit = 0;
            var direct = new Candidate<TKey>[rows.Count];
            for (var i = 0; i < rows.Count; i++)
            {
                var slot = fetched.Slot(i);
                if (rows[i].Version != RowVersion.Unknown)
                {
                    wouldHit += Cache.Contains(rows[i].Key, rows[i].Version) ? 1 : 0;
                    Cache.Put(rows[i].Key, rows[i].Version, slot.Span);
                }

                direct[i] = new Candidate<TKey>(rows[i].Key, rows[i].Score, slot, rows[i].Payload);
            }

            UpdateHitRate(wouldHit, rows.Count);
            return new CandidateBatch<TKey>(direct, bytesThrough)
            {
                Cache = new CacheDiagnostics(0, rows.Count, 0, TimeSpan.Zero, Cache.Statistics.BytesHeld),
                Vectors = fetched,
            };
        }

        await _source.ReadVersionedCandidatesAsync(request, rows, null, cancellationToken).ConfigureAwait(false);
        var vectors = new CandidateVectorBuffer(rows.Count, d);
        var toFetch = new Dictionary<TKey, int>();
        int hits = 0, misses = 0, stale = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Version == RowVersion.Unknown)
            {
                misses++;
                toFetch[rows[i].Key] = i;
                continue;
            }

            switch (Cache.TryGet(rows[i].Key, rows[i].Version, vectors.Slot(i).Span))
            {
                case CacheLookup.Hit:
                    hits++;
                    continue;
                case CacheLookup.Stale:
                    stale++;
                    break;
                default:
                    misses++;
                    break;
            }

            toFetch[rows[i].Key] = i;
        }

        var present = new bool[rows.Count];
        long bytes = 0;
        var fetchTime = TimeSpan.Zero;
        if (toFetch.Count > 0)
        {
            var fetchStart = Stopwatch.GetTimestamp();
            bytes = await _source.ReadFullVectorsAsync(toFetch, vectors, (slot, version) =>
            {
                if (version != RowVersion.Unknown)
                {
                    Cache.Put(rows[slot].Key, version, vectors.Slot(slot).Span);
                }

                present[slot] = true;
            }, cancellationToken).ConfigureAwait(false);
            fetchTime = Stopwatch.GetElapsedTime(fetchStart);
        }

        UpdateHitRate(hits, rows.Count);
        var candidates = new List<Candidate<TKey>>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            if (present[i] || !toFetch.ContainsKey(rows[i].Key))
            {
                candidates.Add(new Candidate<TKey>(rows[i].Key, rows[i].Score, vectors.Slot(i), rows[i].Payload));
            }
        }

        return new CandidateBatch<TKey>(candidates, bytes)
        {
            Cache = new CacheDiagnostics(hits, misses, stale, fetchTime, Cache.Statistics.BytesHeld),
            Vectors = vectors,
        };
    }

    private void UpdateHitRate(int hits, int candidates)
    {
        if (candidates > 0)
        {
            Volatile.Write(ref _recentHitRate, (0.8 * Volatile.Read(ref _recentHitRate)) + (0.2 * hits / candidates));
        }
    }
}
