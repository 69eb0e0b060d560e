using System.Text.Json;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The full-vector cache on the Qdrant store, through a real <see cref="QdrantClient"/> to the in-process fake collection:
/// the write stamp every upsert carries, the requests of a warm-up, of a hit, of a miss and of a stale entry, and that a
/// rewritten point is never reranked with its old vector. Every request is checked against Qdrant 1.17, 1.18 and 1.19.
/// </summary>
public sealed class CacheFlowTests : IDisposable
{
    private const int D = 32;
    private readonly FakeQdrantServer _qdrant = new();
    private readonly FakeQdrantCollection _collection;
    private readonly QdrantClient _client;

    public CacheFlowTests()
    {
        _collection = new FakeQdrantCollection(_qdrant, "docs", FakeQdrantCollection.StoreVectors(Samples.Layout()));
        _client = _qdrant.CreateClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task Every_upsert_writes_a_fresh_stamp_that_reads_never_return()
    {
        var store = Store<long>(cache: false);
        var records = Samples.Records(i => (long)i, 3);
        await store.UpsertAsync(records);
        await store.UpsertAsync([records[0]]);

        var upserts = Requests<Proto.UpsertPoints>("qdrant.Points/Upsert");
        var stamps = upserts[0].Points.Select(p => p.Payload[QdrantKeyMapping.VersionPayloadField]).ToArray();
        Assert.All(stamps, s => Assert.Equal(Proto.Value.KindOneofCase.IntegerValue, s.KindCase));
        Assert.All(stamps, s => Assert.True(s.IntegerValue >= 0));
        Assert.Equal(3, stamps.Select(s => s.IntegerValue).Distinct().Count());
        Assert.NotEqual(stamps[0].IntegerValue, upserts[1].Points[0].Payload[QdrantKeyMapping.VersionPayloadField].IntegerValue);

        var record = await store.GetAsync(1);
        var hits = await store.SearchAsync(records[2].Vector, new SearchOptions { K = 3 });
        Assert.False(record!.Payload!.Value.TryGetProperty(QdrantKeyMapping.VersionPayloadField, out _));
        Assert.Equal(1, record.Payload.Value.GetProperty("rank").GetInt32());
        Assert.All(hits.Hits, h => Assert.False(h.Payload!.Value.TryGetProperty(QdrantKeyMapping.VersionPayloadField, out _)));
        AssertSupported();
    }

    [Fact]
    public async Task A_record_whose_payload_has_the_stamp_field_is_refused_before_any_call()
    {
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { [QdrantKeyMapping.VersionPayloadField] = 5 });
        var records = Samples.Records(i => (long)i, 2).Select(r => r with { Payload = payload }).ToArray();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store<long>().UpsertAsync(records));

        Assert.Contains(QdrantKeyMapping.VersionPayloadField, error.Message, StringComparison.Ordinal);
        Assert.Contains("Record 0", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task Warm_up_scrolls_every_point_with_the_full_vector_and_only_the_stamp()
    {
        var store = Store<long>();
        await store.UpsertAsync(Samples.Records(i => (long)i, 25));
        _qdrant.Clear();

        var points = await store.WarmAsync(pageSize: 10);

        Assert.Equal(25, points);
        Assert.Equal(25, store.FullVectorCache!.Statistics.Count);
        var scrolls = Requests<Proto.ScrollPoints>("qdrant.Points/Scroll");
        Assert.Equal(3, scrolls.Count);
        Assert.Null(scrolls[0].Offset);
        Assert.Equal(10ul, scrolls[1].Offset.Num);
        Assert.Equal(20ul, scrolls[2].Offset.Num);
        Assert.All(scrolls, s =>
        {
            Assert.Equal(10u, s.Limit);
            Assert.Equal([QdrantKeyMapping.VersionPayloadField], s.WithPayload.Include.Fields);
            Assert.Equal(["full"], s.WithVectors.Include.Names);
            Assert.Null(s.Filter);
        });
        AssertSupported();
    }

    [Fact]
    public async Task Warm_up_with_string_keys_also_reads_the_key_field()
    {
        var store = Store<string>();
        var records = Samples.Records(i => "doc-" + i, 4);
        await store.UpsertAsync(records);
        _qdrant.Clear();

        await store.WarmAsync();

        var scroll = Assert.Single(Requests<Proto.ScrollPoints>("qdrant.Points/Scroll"));
        Assert.Equal([QdrantKeyMapping.VersionPayloadField, QdrantKeyMapping.KeyPayloadField], scroll.WithPayload.Include.Fields);
        var buffer = new float[D];
        Assert.NotEqual(CacheLookup.Miss, store.FullVectorCache!.TryGet("doc-2", Stamp(2), buffer));
        Assert.Equal(records[2].Vector.ToArray(), buffer);
    }

    [Fact]
    public async Task A_warm_cache_serves_every_candidate_and_pass_1_asks_for_no_vectors()
    {
        var store = Store<long>();
        var records = Samples.Records(i => (long)i, 20);
        await store.UpsertAsync(records);
        await store.WarmAsync();
        var query = records[7].Vector;
        var uncached = await Store<long>(cache: false).SearchAsync(query, new SearchOptions { K = 3, Oversampling = 4 });
        _qdrant.Clear();

        var result = await store.SearchAsync(query, new SearchOptions { K = 3, Oversampling = 4 });

        var pass1 = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        Assert.Equal("prefix", pass1.Using);
        Assert.Equal(12ul, pass1.Limit);
        Assert.False(pass1.WithVectors.Enable);
        Assert.Null(pass1.WithVectors.Include);
        Assert.True(pass1.WithPayload.Enable);
        Assert.Equal(new CacheDiagnostics(12, 0, 0, TimeSpan.Zero, store.FullVectorCache!.Statistics.BytesHeld), result.Diagnostics.Cache);
        Assert.Equal(0, result.Diagnostics.BytesFetched);
        Assert.Equal(uncached.Hits.Select(h => (h.Key, h.Score)), result.Hits.Select(h => (h.Key, h.Score)));
        Assert.Equal(7L, result.Hits[0].Key);
        AssertSupported();
    }

    [Fact]
    public async Task Misses_are_fetched_in_one_retrieve_of_the_full_vector_and_the_stamp_and_then_hit()
    {
        var store = Store<long>();
        var records = Samples.Records(i => (long)i, 25);
        await store.UpsertAsync(records.Take(20).ToArray());
        await store.WarmAsync();
        await store.UpsertAsync(records.Skip(20).ToArray());
        _qdrant.Clear();

        var result = await store.SearchAsync(records[22].Vector, new SearchOptions { K = 5, Oversampling = 5 });
        var again = await store.SearchAsync(records[22].Vector, new SearchOptions { K = 5, Oversampling = 5 });

        Assert.Equal(["qdrant.Points/Query", "qdrant.Points/Get", "qdrant.Points/Query"], _qdrant.MethodNames);
        var retrieve = _qdrant.Calls[1].As<Proto.GetPoints>();
        Assert.Equal([20ul, 21ul, 22ul, 23ul, 24ul], retrieve.Ids.Select(id => id.Num).Order());
        Assert.Equal([QdrantKeyMapping.VersionPayloadField], retrieve.WithPayload.Include.Fields);
        Assert.Equal(["full"], retrieve.WithVectors.Include.Names);
        Assert.Equal((20, 5, 0), (result.Diagnostics.Cache!.Hits, result.Diagnostics.Cache.Misses, result.Diagnostics.Cache.Stale));
        Assert.Equal(5 * D * sizeof(float), result.Diagnostics.BytesFetched);
        Assert.Equal(22L, result.Hits[0].Key);
        Assert.Equal((25, 0), (again.Diagnostics.Cache!.Hits, again.Diagnostics.Cache.Misses));
        AssertSupported();
    }

    [Fact]
    public async Task A_point_rewritten_since_it_was_cached_is_stale_refetched_and_reranked_with_its_new_vector()
    {
        var store = Store<long>();
        var records = Samples.Records(i => (long)i, 10);
        await store.UpsertAsync(records);
        await store.WarmAsync();
        var query = records[8].Vector;

        // Point 3 now holds the query's vector: only its new vector makes it the best hit.
        await store.UpsertAsync([records[3] with { Vector = query }]);
        _qdrant.Clear();
        var result = await store.SearchAsync(query, new SearchOptions { K = 2, Oversampling = 5 });
        var again = await store.SearchAsync(query, new SearchOptions { K = 2, Oversampling = 5 });

        Assert.Equal(["qdrant.Points/Query", "qdrant.Points/Get", "qdrant.Points/Query"], _qdrant.MethodNames);
        Assert.Equal(3ul, Assert.Single(_qdrant.Calls[1].As<Proto.GetPoints>().Ids).Num);
        Assert.Equal((9, 0, 1), (result.Diagnostics.Cache!.Hits, result.Diagnostics.Cache.Misses, result.Diagnostics.Cache.Stale));
        Assert.Equal([3L, 8L], result.Hits.Select(h => h.Key).Order());
        Assert.All(result.Hits, h => Assert.Equal(1f, h.Score, 4));
        Assert.Equal((10, 0), (again.Diagnostics.Cache!.Hits, again.Diagnostics.Cache.Stale));
        AssertSupported();
    }

    [Fact]
    public async Task A_recreated_collection_whose_point_versions_repeat_is_still_refetched()
    {
        var store = Store<long>();
        var before = Samples.Records(i => (long)i, 5);
        await store.UpsertAsync(before);
        await store.WarmAsync();
        var versions = Enumerable.Range(0, 5).Select(i => _collection.VersionOf((ulong)i)).ToArray();

        // Deleted and created again, loaded in the same order with other vectors: Qdrant's point versions come back equal.
        _collection.Recreate();
        var after = Samples.Records(i => (long)i, 5, seed: 99);
        await store.UpsertAsync(after);
        _qdrant.Clear();
        var result = await store.SearchAsync(after[4].Vector, new SearchOptions { K = 1, Oversampling = 5 });

        Assert.Equal(versions, Enumerable.Range(0, 5).Select(i => _collection.VersionOf((ulong)i)));
        Assert.Equal(5, result.Diagnostics.Cache!.Stale);
        Assert.Equal(5, _qdrant.Calls[1].As<Proto.GetPoints>().Ids.Count);
        Assert.Equal(4L, Assert.Single(result.Hits).Key);
        Assert.Equal(1f, result.Hits[0].Score, 4);
    }

    [Fact]
    public async Task Points_written_without_a_stamp_are_fetched_every_time_and_never_cached()
    {
        var store = Store<long>();
        var records = Samples.Records(i => (long)i, 8);
        var layout = Samples.Layout();
        foreach (var record in records.Take(4))
        {
            _collection.Put(QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber((ulong)record.Key), layout.ToPrefix(record.Vector.Span),
                record.Vector.Span, "prefix", "full"));
        }

        await store.UpsertAsync(records.Skip(4).ToArray());
        await store.WarmAsync();
        _qdrant.Clear();

        var first = await store.SearchAsync(records[1].Vector, new SearchOptions { K = 2, Oversampling = 4 });
        var second = await store.SearchAsync(records[1].Vector, new SearchOptions { K = 2, Oversampling = 4 });

        Assert.Equal(4, store.FullVectorCache!.Statistics.Count);
        Assert.Equal(["qdrant.Points/Query", "qdrant.Points/Get", "qdrant.Points/Query", "qdrant.Points/Get"], _qdrant.MethodNames);
        Assert.Equal([0ul, 1ul, 2ul, 3ul], _qdrant.Calls[3].As<Proto.GetPoints>().Ids.Select(id => id.Num).Order());
        Assert.Equal((4, 4), (second.Diagnostics.Cache!.Hits, second.Diagnostics.Cache.Misses));
        Assert.Equal(1L, first.Hits[0].Key);
        Assert.Equal(1L, second.Hits[0].Key);
    }

    [Fact]
    public void A_cache_of_another_width_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new QdrantAdaptiveStore<long>(_client, Samples.Options()) { FullVectorCache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(D + 1, 1 << 20)) });

        Assert.Contains("33", error.Message, StringComparison.Ordinal);
    }

    private long Stamp(ulong id) => _collection.Points.Single(p => p.Id.Uuid == QdrantKeyMapping.StringKeyToUuid("doc-" + id).ToString()).Payload[QdrantKeyMapping.VersionPayloadField].IntegerValue;

    private List<T> Requests<T>(string method) where T : Google.Protobuf.IMessage =>
        _qdrant.Calls.Where(c => c.Method == method).Select(c => c.As<T>()).ToList();

    private QdrantAdaptiveStore<TKey> Store<TKey>(bool cache = true) where TKey : notnull =>
        new(_client, Samples.Options()) { FullVectorCache = cache ? new InMemoryFullVectorCache<TKey>(new FullVectorCacheOptions(D, 1 << 20)) : null };

    private void AssertSupported()
    {
        foreach (var version in ProtoSurface.Versions)
        {
            ProtoSurface.Of(version).AssertSupports(_qdrant.Calls);
        }
    }
}
