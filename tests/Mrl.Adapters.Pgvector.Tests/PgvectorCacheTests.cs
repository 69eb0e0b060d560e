using System.Collections.Concurrent;
using Mrl.Adapters.Caching;
using Mrl.Bench.Synthetic;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Pgvector.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PgvectorCacheTests(PostgresFixture postgres) : IDisposable
{
    private const int D = 48;
    private static readonly EmbeddingLayout Layout = new(D, 12);
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-pgcache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static float[] Data(int count, int seed) => new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = D, Clusters = 5, Seed = seed }).Generate(count);

    private async Task<(PgvectorAdaptiveStore<long> Store, float[] Data)> CreateAsync(IFullVectorCache<long>? cache, int rows = 500, string? table = null)
    {
        postgres.RequireServer();
        var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table ?? postgres.NewTableName("cache") })
        {
            FullVectorCache = cache,
        };
        await store.EnsureSchemaAsync();
        var data = Data(rows, 1);
        await store.UpsertAsync(Enumerable.Range(0, rows).Select(i => new VectorRecord<long>(i, data.AsMemory(i * D, D))).ToArray());
        return (store, data);
    }

    [SkippableFact]
    public async Task Cold_then_warm_searches_count_misses_then_hits_and_match_the_uncached_results()
    {
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(D, 1 << 24));
        var table = postgres.NewTableName("cache");
        var (store, data) = await CreateAsync(cache, table: table);
        await using var uncached = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table });
        var query = data.AsMemory(17 * D, D);
        var options = new SearchOptions { K = 10, Oversampling = 4 };

        var cold = await store.SearchAsync(query, options);
        var stillCold = await store.SearchAsync(query, options);
        await store.WarmAsync();
        var warm = await store.SearchAsync(query, options);
        var plain = await uncached.SearchAsync(query, options);

        Assert.Equal("two-pass-cached", cold.Diagnostics.StrategyName);
        Assert.Equal(new[] { 0, 40, 0 }, new[] { cold.Diagnostics.Cache!.Hits, cold.Diagnostics.Cache.Misses, cold.Diagnostics.Cache.Stale });

        // A cold cache is filled by pass 1 itself (one round trip, as without a cache) until most candidates are cached.
        Assert.Equal(cold.Diagnostics.BytesFetched, stillCold.Diagnostics.BytesFetched);
        Assert.Equal(40 * D * 4, cold.Diagnostics.BytesFetched);
        Assert.Equal(new[] { 40, 0, 0 }, new[] { warm.Diagnostics.Cache!.Hits, warm.Diagnostics.Cache.Misses, warm.Diagnostics.Cache.Stale });
        Assert.Equal(0, warm.Diagnostics.BytesFetched);
        Assert.Equal(plain.Hits.Select(h => (h.Key, h.Score)), warm.Hits.Select(h => (h.Key, h.Score)));
        Assert.Equal(plain.Hits.Select(h => (h.Key, h.Score)), cold.Hits.Select(h => (h.Key, h.Score)));
        await store.DisposeAsync();
    }

    [SkippableFact]
    public async Task Repeated_searches_move_a_cold_cache_from_fetching_through_pass_1_to_hits()
    {
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(D, 1 << 24));
        var (store, data) = await CreateAsync(cache);
        var options = new SearchOptions { K = 10, Oversampling = 4 };
        var hits = new List<int>();
        for (var i = 0; i < 8; i++)
        {
            hits.Add((await store.SearchAsync(data.AsMemory(33 * D, D), options)).Diagnostics.Cache!.Hits);
        }

        Assert.Equal(0, hits[0]);
        Assert.Equal(40, hits[^1]);
        await store.DisposeAsync();
    }

    [SkippableFact]
    public async Task An_update_forces_a_refetch_and_a_delete_never_comes_back()
    {
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(D, 1 << 24));
        var (store, data) = await CreateAsync(cache);
        await store.WarmAsync();

        var replacement = Data(1, 99);
        await store.UpsertAsync([new VectorRecord<long>(5, replacement)]);
        var afterUpdate = await store.SearchAsync(replacement, new SearchOptions { K = 1 });
        Assert.Equal(5, afterUpdate.Hits[0].Key);
        Assert.Equal(1f, afterUpdate.Hits[0].Score, 4);
        Assert.True(afterUpdate.Diagnostics.Cache!.Stale >= 1);

        await store.DeleteAsync([6L]);
        var afterDelete = await store.SearchAsync(data.AsMemory(6 * D, D), new SearchOptions { K = 20 });
        Assert.DoesNotContain(afterDelete.Hits, h => h.Key == 6);
        Assert.Equal(0, afterDelete.Diagnostics.Cache!.Misses + afterDelete.Diagnostics.Cache.Stale);
        await store.DisposeAsync();
    }

    [SkippableFact]
    public async Task Concurrent_updates_never_let_a_score_come_from_a_vector_older_than_pass_1()
    {
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(D, 1 << 24, CacheStorage.FullPrecision));
        var (store, data) = await CreateAsync(cache, rows: 200);
        await store.WarmAsync();
        var versions = Data(400, 7);

        // Every committed vector of every row, in commit order; rows 0..49 are rewritten while searches run.
        var history = new ConcurrentDictionary<long, List<(long Sequence, float[] Vector)>>();
        for (var i = 0; i < 200; i++)
        {
            history[i] = [(0, data.AsSpan(i * D, D).ToArray())];
        }

        long sequence = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var random = new Random(3);
            while (!stop.IsCancellationRequested)
            {
                var key = random.Next(50);
                var vector = versions.AsSpan(random.Next(400) * D, D).ToArray();

                // A search may see the row as soon as it commits, before UpsertAsync returns: the version is in the
                // history from before the commit, as pending (after every search's start), and gets its place once acknowledged.
                int index;
                lock (history[key])
                {
                    history[key].Add((long.MaxValue, vector));
                    index = history[key].Count - 1;
                }

                await store.UpsertAsync([new VectorRecord<long>(key, vector)]);
                lock (history[key])
                {
                    history[key][index] = (Interlocked.Increment(ref sequence), vector);
                }
            }
        });

        // Search until both enough searches and enough updates have run: the writer may be slow to start on a busy machine.
        var checkedHits = 0;
        var searches = 0;
        var deadline = DateTime.UtcNow.AddMinutes(1);
        for (var q = 0; (q < 150 || Interlocked.Read(ref sequence) < 50) && DateTime.UtcNow < deadline; q++, searches++)
        {
            var query = versions.AsMemory((q % 400) * D, D);
            var before = Interlocked.Read(ref sequence);
            var result = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 5 });
            foreach (var hit in result.Hits)
            {
                List<(long Sequence, float[] Vector)> rows;
                lock (history[hit.Key])
                {
                    rows = [.. history[hit.Key]];
                }

                // Allowed: the version current when the search began (the last one acknowledged before it), or any later one.
                var firstAllowed = rows.FindLastIndex(r => r.Sequence <= before);
                var allowed = rows.Skip(Math.Max(0, firstAllowed)).Select(r => Layout.Score(query.Span, r.Vector));
                Assert.Contains(allowed, s => Math.Abs(s - hit.Score) < 1e-4);
                checkedHits++;
            }
        }

        await stop.CancelAsync();
        await writer;
        Assert.True(sequence >= 50, $"only {sequence} updates ran in a minute");
        Assert.Equal(searches * 10, checkedHits);
        Assert.True(cache.Statistics.Stale > 0);
        await store.DisposeAsync();
    }

    [SkippableFact]
    public async Task The_byte_budget_holds_while_searches_churn_through_the_table()
    {
        var options = new FullVectorCacheOptions(D, 100 * (D * 2 + 48), CacheStorage.HalfPrecision);
        var cache = new InMemoryFullVectorCache<long>(options);
        var (store, data) = await CreateAsync(cache, rows: 1_000);
        for (var q = 0; q < 200; q++)
        {
            await store.SearchAsync(data.AsMemory(q * 5 * D, D), new SearchOptions { K = 10, Oversampling = 4 });
        }

        var statistics = cache.Statistics;
        Assert.True(statistics.Count <= options.Capacity, $"{statistics.Count} entries for a capacity of {options.Capacity}");
        Assert.True(statistics.Evictions > 0);
        await store.DisposeAsync();
    }

    [SkippableFact]
    public async Task A_mapped_cache_survives_a_restart_and_is_discarded_after_a_truncate()
    {
        var path = Path.Combine(_directory, "rows.cache");
        var options = new FullVectorCacheOptions(D, 1 << 22, CacheStorage.HalfPrecision);
        postgres.RequireServer();
        var table = postgres.NewTableName("mapped");
        string identity;
        float[] data;
        {
            var (store, loaded) = await CreateAsync(null, rows: 300, table: table);
            identity = await store.GetTableIdentityAsync();
            data = loaded;
            await store.DisposeAsync();
        }

        using (var cache = new MemoryMappedFullVectorCache<long>(path, options, identity))
        await using (var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table }) { FullVectorCache = cache })
        {
            Assert.Equal(300, await store.WarmAsync());
        }

        using (var cache = new MemoryMappedFullVectorCache<long>(path, options, identity))
        await using (var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table }) { FullVectorCache = cache })
        {
            Assert.False(cache.WasReset);
            Assert.Equal(300, cache.LoadedEntries);
            var result = await store.SearchAsync(data.AsMemory(0, D), new SearchOptions { K = 10 });
            Assert.Equal(80, result.Diagnostics.Cache!.Hits);
            Assert.Equal(0L, result.Diagnostics.BytesFetched);
            Assert.Equal(0, result.Hits[0].Key);
        }

        await using (var truncate = postgres.DataSource.CreateCommand($"TRUNCATE \"{table}\""))
        {
            await truncate.ExecuteNonQueryAsync();
        }

        await using var after = new PgvectorAdaptiveStore<long>(postgres.DataSource, Layout, new PgvectorStoreOptions { Table = table });
        var newIdentity = await after.GetTableIdentityAsync();
        Assert.NotEqual(identity, newIdentity);
        using var reopened = new MemoryMappedFullVectorCache<long>(path, options, newIdentity);
        Assert.True(reopened.WasReset);
    }
}
