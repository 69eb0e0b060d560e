using Mrl.Adapters.Caching;

namespace Mrl.Adapters.Tests;

/// <summary>The full-vector cache in front of any store that reports row versions, tested over a table held in this process.</summary>
public sealed class CachedCandidateSourceTests
{
    private const int Dimensions = 8;

    /// <summary>A store's two cache operations over a dictionary: key to (version, vector); pass 1 returns keys in ascending order.</summary>
    private sealed class VersionedTable : IVersionedCandidateSource<long>
    {
        public Dictionary<long, (long Version, float[] Vector)> Rows { get; } = [];

        public int Pass1WithVectors { get; private set; }

        public int Pass1WithoutVectors { get; private set; }

        public List<long[]> FetchedKeys { get; } = [];

        public HashSet<long> DeleteBeforeFetch { get; } = [];

        public int FullDimensions => Dimensions;

        public ValueTask<long> ReadVersionedCandidatesAsync(CandidateRequest request, List<VersionedCandidate<long>> rows, CandidateVectorBuffer? fullVectors, CancellationToken cancellationToken)
        {
            _ = fullVectors is null ? Pass1WithoutVectors++ : Pass1WithVectors++;
            foreach (var (key, row) in Rows.OrderBy(r => r.Key).Take(request.Count))
            {
                if (fullVectors is not null)
                {
                    row.Vector.CopyTo(fullVectors.Slot(rows.Count));
                }

                rows.Add(new VersionedCandidate<long>(key, -key, row.Version, null));
            }

            return ValueTask.FromResult(fullVectors is null ? 0L : rows.Count * Dimensions * 4L);
        }

        public ValueTask<long> ReadFullVectorsAsync(IReadOnlyDictionary<long, int> slots, CandidateVectorBuffer into, Action<int, long> found, CancellationToken cancellationToken)
        {
            FetchedKeys.Add(slots.Keys.Order().ToArray());
            foreach (var key in DeleteBeforeFetch)
            {
                Rows.Remove(key);
            }

            long bytes = 0;
            foreach (var (key, slot) in slots)
            {
                if (Rows.TryGetValue(key, out var row))
                {
                    row.Vector.CopyTo(into.Slot(slot));
                    found(slot, row.Version);
                    bytes += Dimensions * 4;
                }
            }

            return ValueTask.FromResult(bytes);
        }
    }

    private static float[] Vector(long key, float scale = 1) => Enumerable.Range(0, Dimensions).Select(i => scale * (key + i)).ToArray();

    private static VersionedTable Table(int rows)
    {
        var table = new VersionedTable();
        for (var key = 1L; key <= rows; key++)
        {
            table.Rows[key] = (1, Vector(key));
        }

        return table;
    }

    private static CandidateRequest Request(int count) => new(new float[2], count, null, IncludeFullVectors: true, EfSearch: null);

    [Fact]
    public async Task A_cold_cache_fetches_through_pass_1_then_serves_hits_without_a_fetch()
    {
        var table = Table(20);
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(Dimensions, 1 << 20));
        var source = new CachedCandidateSource<long>(table, cache);

        var cold = await source.FetchCandidatesAsync(Request(10), default);
        for (var i = 0; i < 5; i++)
        {
            await source.FetchCandidatesAsync(Request(10), default);
        }

        var warm = await source.FetchCandidatesAsync(Request(10), default);

        Assert.Equal(10, cold.Candidates.Count);
        Assert.Equal(10, cold.Cache!.Misses);
        Assert.Equal(Vector(3), cold.Candidates[2].FullVector.ToArray());
        Assert.True(table.Pass1WithVectors >= 1);
        Assert.True(table.Pass1WithoutVectors >= 1);
        Assert.Equal(10, warm.Cache!.Hits);
        Assert.Equal(0, warm.BytesFetched);
        Assert.Equal(Vector(7), warm.Candidates[6].FullVector.ToArray());
        Assert.True(source.RecentHitRate > 0.5);
    }

    [Fact]
    public async Task An_updated_row_is_stale_and_reranked_with_its_new_vector_and_a_deleted_one_drops_out()
    {
        var table = Table(10);
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(Dimensions, 1 << 20));
        var source = new CachedCandidateSource<long>(table, cache);
        await source.FetchCandidatesAsync(Request(10), default);
        source.MarkWarm();

        // Both rows were written since they were cached; row 4 is deleted between pass 1 and the fetch of the misses.
        table.Rows[4] = (2, Vector(4, scale: -1));
        table.Rows[5] = (2, Vector(5, scale: 3));
        table.DeleteBeforeFetch.Add(4);
        var batch = await source.FetchCandidatesAsync(Request(10), default);

        Assert.Equal(8, batch.Cache!.Hits);
        Assert.Equal(2, batch.Cache.Stale);
        Assert.Equal([4L, 5L], table.FetchedKeys.Single());
        Assert.DoesNotContain(batch.Candidates, c => c.Key == 4);
        Assert.Equal(Vector(5, scale: 3), batch.Candidates.Single(c => c.Key == 5).FullVector.ToArray());
        Assert.Equal(9, batch.Candidates.Count);
    }

    [Fact]
    public async Task A_row_of_unknown_version_is_fetched_every_time_and_never_cached()
    {
        var table = Table(6);
        table.Rows[3] = (RowVersion.Unknown, Vector(3));
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(Dimensions, 1 << 20));
        var source = new CachedCandidateSource<long>(table, cache);
        await source.FetchCandidatesAsync(Request(6), default);
        source.MarkWarm();

        var first = await source.FetchCandidatesAsync(Request(6), default);
        var second = await source.FetchCandidatesAsync(Request(6), default);

        Assert.False(cache.Contains(3, RowVersion.Unknown));
        Assert.Equal(5, cache.Statistics.Count);
        Assert.Equal((5, 1, 0), (first.Cache!.Hits, first.Cache.Misses, first.Cache.Stale));
        Assert.Equal((5, 1), (second.Cache!.Hits, second.Cache.Misses));
        Assert.Equal([[3L], [3L]], table.FetchedKeys);
        Assert.Equal(Vector(3), second.Candidates.Single(c => c.Key == 3).FullVector.ToArray());
    }
}
