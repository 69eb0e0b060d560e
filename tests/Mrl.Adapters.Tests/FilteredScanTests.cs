using System.Text.Json;
using Mrl.Adapters.Filtering;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.Tests;

public sealed class FilteredScanTests : IDisposable
{
    private readonly InMemoryAdaptiveStore<long> _store = new(new EmbeddingLayout(3, 3));

    public FilteredScanTests()
    {
        _store.UpsertAsync(
        [
            Record(1, """{"n": 3, "s": "b", "tags": ["x", "y"]}"""),
            Record(2, """{"n": 1, "s": "a"}"""),
            Record(3, """{"n": 2, "s": null, "tags": ["z"]}"""),
            Record(4, """{"s": "c"}"""),
        ]).GetAwaiter().GetResult();
    }

    [Fact]
    public async Task Scan_without_a_filter_returns_every_record_in_key_order()
    {
        var records = await _store.GetAsync(filter: null, top: 10);

        Assert.Equal([1L, 2, 3, 4], records.Select(r => r.Key));
        Assert.All(records, r => Assert.True(r.Vector.IsEmpty));
    }

    [Fact]
    public async Task Scan_orders_by_a_payload_field_with_missing_values_first_ascending_and_last_descending()
    {
        var ascending = await _store.GetAsync(null, 10, new RecordQueryOptions { OrderBy = [new SortField("n")] });
        var descending = await _store.GetAsync(null, 10, new RecordQueryOptions { OrderBy = [new SortField("n", Descending: true)] });

        Assert.Equal([4L, 2, 3, 1], ascending.Select(r => r.Key));
        Assert.Equal([1L, 3, 2, 4], descending.Select(r => r.Key));
    }

    [Fact]
    public async Task Scan_applies_filter_skip_and_top_and_returns_vectors_when_asked()
    {
        var records = await _store.GetAsync(Filter.Range("n", gte: 1), top: 1,
            new RecordQueryOptions { Skip = 1, OrderBy = [new SortField("n")], IncludeVectors = true });

        var record = Assert.Single(records);
        Assert.Equal(3L, record.Key);
        Assert.Equal([0f, 0f, 1f], record.Vector.ToArray());
    }

    [Fact]
    public async Task Scan_rejects_a_top_below_one_and_a_negative_skip()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.GetAsync(null, 0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _store.GetAsync(null, 1, new RecordQueryOptions { Skip = -1 }));
    }

    [Fact]
    public async Task Null_filter_matches_a_missing_or_null_field_and_its_negation_the_rest()
    {
        var isNull = await _store.GetAsync(Filter.IsNull("s"), 10);
        var notNull = await _store.GetAsync(!Filter.IsNull("n"), 10);

        Assert.Equal([3L], isNull.Select(r => r.Key));
        Assert.Equal([1L, 2, 3], notNull.Select(r => r.Key));
    }

    [Fact]
    public async Task Array_equality_matches_the_same_elements_in_the_same_order_only()
    {
        Assert.Equal([1L], (await _store.GetAsync(Filter.ArrayEq("tags", ["x", "y"]), 10)).Select(r => r.Key));
        Assert.Empty(await _store.GetAsync(Filter.ArrayEq("tags", ["y", "x"]), 10));
        Assert.Empty(await _store.GetAsync(Filter.ArrayEq("tags", ["x"]), 10));
    }

    [Fact]
    public void Payload_order_ranks_missing_then_strings_then_numbers_then_booleans()
    {
        using var doc = JsonDocument.Parse("""[{}, {"f": "a"}, {"f": 2}, {"f": 10}, {"f": true}]""");
        var payloads = doc.RootElement.EnumerateArray().Select(e => (JsonElement?)e).ToArray();

        var sorted = payloads.Reverse().Order(Comparer<JsonElement?>.Create((x, y) => PayloadOrder.Compare(x, y, [new SortField("f")]))).ToArray();

        Assert.Equal(payloads.Select(p => p!.Value.GetRawText()), sorted.Select(p => p!.Value.GetRawText()));
    }

    public void Dispose() => _store.Dispose();

    private static VectorRecord<long> Record(long key, string payload)
    {
        // The first value is zero: the suite's own probe vectors look like this, and a single-pass layout takes them.
        float[] vector = key == 3 ? [0f, 0f, 1f] : [0f, 1f, key];
        return new VectorRecord<long>(key, vector, JsonDocument.Parse(payload).RootElement.Clone());
    }
}
