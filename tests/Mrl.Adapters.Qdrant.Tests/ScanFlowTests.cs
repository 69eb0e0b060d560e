using Mrl.Adapters.InMemory;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The filtered scan (<c>GetAsync</c> with a filter) on the Qdrant store, through a real <see cref="QdrantClient"/> to the
/// in-process fake collection: the scroll requests it sends, and the same records as the in-memory store for each key type.
/// </summary>
public sealed class ScanFlowTests : IDisposable
{
    private const int Count = 40;
    private readonly FakeQdrantServer _qdrant = new();
    private readonly FakeQdrantCollection _collection;
    private readonly QdrantClient _client;

    public ScanFlowTests()
    {
        _collection = new FakeQdrantCollection(_qdrant, "docs", FakeQdrantCollection.StoreVectors(Samples.Layout()));
        _client = _qdrant.CreateClient();
    }

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    public static TheoryData<string> Cases => new(Queries.Keys);

    private static readonly Dictionary<string, (Filter? Filter, int Top, RecordQueryOptions Options)> Queries = new()
    {
        ["all"] = (null, 100, new RecordQueryOptions()),
        ["first-page"] = (Filter.Eq("category", "c1"), 4, new RecordQueryOptions()),
        ["skip"] = (Filter.Eq("category", "c1"), 3, new RecordQueryOptions { Skip = 5 }),
        ["skip-past-the-end"] = (Filter.Eq("category", "c1"), 3, new RecordQueryOptions { Skip = 50 }),
        ["with-vectors"] = (Filter.Range("rank", gte: 30), 6, new RecordQueryOptions { Skip = 2, IncludeVectors = true }),
        ["order-desc"] = (null, 7, new RecordQueryOptions { OrderBy = [new SortField("rank", Descending: true)] }),
        ["order-two-keys"] = (Filter.Range("rank", lt: 20), 9, new RecordQueryOptions { Skip = 3, OrderBy = [new SortField("category"), new SortField("rank", true)] }),
        ["order-with-vectors"] = (Filter.Not(Filter.Eq("category", "c0")), 5, new RecordQueryOptions { OrderBy = [new SortField("category")], IncludeVectors = true }),
        ["no-match"] = (Filter.Eq("category", "none"), 5, new RecordQueryOptions()),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Long_keys_give_the_records_of_the_in_memory_store(string name) => AssertLikeInMemoryAsync(name, i => (long)i * 3);

    [Theory]
    [MemberData(nameof(Cases))]
    public Task Guid_keys_give_the_records_of_the_in_memory_store(string name) => AssertLikeInMemoryAsync(name, i => new Guid(i * 7919, 0, 0, new byte[8]));

    [Theory]
    [MemberData(nameof(Cases))]
    public Task String_keys_give_the_records_of_the_in_memory_store(string name) => AssertLikeInMemoryAsync(name, i => "doc-" + (Count - i));

    [Fact]
    public async Task Integer_keys_in_key_order_skip_by_scrolling_ids_only_then_read_the_page()
    {
        var store = new QdrantAdaptiveStore<long>(_client, Samples.Options());
        await store.UpsertAsync(Samples.Records(i => (long)i, Count));
        _qdrant.Clear();

        var records = await store.GetAsync(Filter.Eq("category", "c2"), 3, new RecordQueryOptions { Skip = 4, IncludeVectors = true });

        var scrolls = _qdrant.Calls.Select(c => c.As<Proto.ScrollPoints>()).ToArray();
        Assert.Equal(2, scrolls.Length);
        Assert.Equal(["qdrant.Points/Scroll", "qdrant.Points/Scroll"], _qdrant.MethodNames);
        Assert.All(scrolls, s => Assert.Equal("c2", s.Filter.Must[0].Field.Match.Keyword));
        Assert.Equal(4u, scrolls[0].Limit);
        Assert.False(scrolls[0].WithPayload.Enable);
        Assert.False(scrolls[0].WithVectors.Enable);
        Assert.Null(scrolls[0].Offset);
        Assert.Equal(3u, scrolls[1].Limit);
        Assert.Equal(18ul, scrolls[1].Offset.Num);
        Assert.True(scrolls[1].WithPayload.Enable);
        Assert.Equal(["full"], scrolls[1].WithVectors.Include.Names);
        Assert.Equal([18L, 22L, 26L], records.Select(r => r.Key));
        Assert.All(records, r => Assert.Equal(32, r.Vector.Length));
        AssertSupported();
    }

    [Fact]
    public async Task An_order_by_scrolls_the_payloads_sorts_in_process_and_retrieves_only_the_page_vectors()
    {
        var store = new QdrantAdaptiveStore<long>(_client, Samples.Options());
        await store.UpsertAsync(Samples.Records(i => (long)i, Count));
        _qdrant.Clear();

        var records = await store.GetAsync(null, 2, new RecordQueryOptions { Skip = 1, OrderBy = [new SortField("rank", true)], IncludeVectors = true });

        Assert.Equal(["qdrant.Points/Scroll", "qdrant.Points/Get"], _qdrant.MethodNames);
        var scroll = _qdrant.Calls[0].As<Proto.ScrollPoints>();
        Assert.Equal((uint)QdrantAdaptiveStore<long>.ScanPageSize, scroll.Limit);
        Assert.True(scroll.WithPayload.Enable);
        Assert.False(scroll.WithVectors.Enable);
        Assert.Null(scroll.OrderBy);
        var retrieve = _qdrant.Calls[1].As<Proto.GetPoints>();
        Assert.Equal([38ul, 37ul], retrieve.Ids.Select(id => id.Num));
        Assert.Equal(["full"], retrieve.WithVectors.Include.Names);
        Assert.False(retrieve.WithPayload.Enable);
        Assert.Equal([38L, 37L], records.Select(r => r.Key));
        AssertSupported();
    }

    [Fact]
    public async Task More_matches_than_the_scan_limit_fail_with_what_to_change()
    {
        var options = Samples.Options();
        options.MaxScanPoints = 10;
        var store = new QdrantAdaptiveStore<string>(_client, options);
        await store.UpsertAsync(Samples.Records(i => "k" + i, 11));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetAsync(null, 1));

        Assert.Contains("MaxScanPoints (10)", error.Message, StringComparison.Ordinal);
        Assert.Contains("String keys", error.Message, StringComparison.Ordinal);
        Assert.NotNull(await store.GetAsync(Filter.Eq("category", "c1"), 1));
    }

    [Fact]
    public async Task Bad_arguments_send_nothing()
    {
        var store = new QdrantAdaptiveStore<long>(_client, Samples.Options());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetAsync(null, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetAsync(null, 1, new RecordQueryOptions { Skip = -1 }));
        Assert.Empty(_qdrant.Calls);
    }

    private async Task AssertLikeInMemoryAsync<TKey>(string name, Func<int, TKey> key) where TKey : notnull
    {
        var (filter, top, options) = Queries[name];
        var records = Samples.Records(key, Count);
        var expectedStore = new InMemoryAdaptiveStore<TKey>(Samples.Layout());
        await expectedStore.UpsertAsync(records);
        var store = new QdrantAdaptiveStore<TKey>(_client, Samples.Options());
        await store.UpsertAsync(records);

        var expected = await expectedStore.GetAsync(filter, top, options);
        var actual = await store.GetAsync(filter, top, options);

        Assert.Equal(expected.Select(r => r.Key), actual.Select(r => r.Key));
        Assert.Equal(expected.Select(r => r.Payload?.GetRawText()), actual.Select(r => r.Payload?.GetRawText()));
        Assert.Equal(expected.Select(r => r.Vector.Length), actual.Select(r => r.Vector.Length));
        foreach (var record in actual.Where(r => !r.Vector.IsEmpty))
        {
            Assert.Equal(records.Single(r => r.Key.Equals(record.Key)).Vector.ToArray(), record.Vector.ToArray());
        }

        AssertSupported();
    }

    private void AssertSupported()
    {
        foreach (var version in ProtoSurface.Versions)
        {
            ProtoSurface.Of(version).AssertSupports(_qdrant.Calls);
        }
    }
}
