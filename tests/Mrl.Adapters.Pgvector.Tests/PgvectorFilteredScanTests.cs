using System.Text.Json;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Pgvector.Tests;

[Collection(PostgresGroup.Name)]
public sealed class PgvectorFilteredScanTests(PostgresFixture postgres)
{
    private async Task<PgvectorAdaptiveStore<long>> SeededStoreAsync()
    {
        postgres.RequireServer();
        var store = new PgvectorAdaptiveStore<long>(postgres.DataSource, new EmbeddingLayout(3, 3),
            new PgvectorStoreOptions { Table = postgres.NewTableName("scan") });
        await store.EnsureSchemaAsync();
        await store.UpsertAsync(
        [
            Record(1, """{"n": 3, "s": "b", "at": "2024-01-01T10:00:00+00:00", "tags": ["x", "y"]}"""),
            Record(2, """{"n": 1, "s": "a", "at": "2024-01-02T10:00:00+00:00"}"""),
            Record(3, """{"n": 2, "s": null}"""),
            Record(4, """{"s": "c"}"""),
        ]);
        return store;
    }

    private static VectorRecord<long> Record(long key, string payload) =>
        new(key, new float[] { 0f, 1f, key }, JsonDocument.Parse(payload).RootElement.Clone());

    [SkippableFact]
    public async Task Scan_orders_by_a_payload_field_with_missing_values_first_ascending_and_last_descending()
    {
        await using var store = await SeededStoreAsync();

        var ascending = await store.GetAsync(null, 10, new RecordQueryOptions { OrderBy = [new SortField("n")] });
        var descending = await store.GetAsync(null, 10, new RecordQueryOptions { OrderBy = [new SortField("n", Descending: true)] });

        Assert.Equal([4L, 2, 3, 1], ascending.Select(r => r.Key));
        Assert.Equal([1L, 3, 2, 4], descending.Select(r => r.Key));
        Assert.All(ascending, r => Assert.True(r.Vector.IsEmpty));
    }

    [SkippableFact]
    public async Task Scan_applies_filter_skip_and_top_and_returns_vectors_when_asked()
    {
        await using var store = await SeededStoreAsync();

        var records = await store.GetAsync(Filter.Range("n", gte: 1), top: 1,
            new RecordQueryOptions { Skip = 1, OrderBy = [new SortField("n")], IncludeVectors = true });

        var record = Assert.Single(records);
        Assert.Equal(3L, record.Key);
        Assert.Equal([0f, 1f, 3f], record.Vector.ToArray());
    }

    [SkippableFact]
    public async Task Scan_without_an_order_returns_records_in_key_order()
    {
        await using var store = await SeededStoreAsync();

        var records = await store.GetAsync(null, 3);

        Assert.Equal([1L, 2, 3], records.Select(r => r.Key));
    }

    [SkippableFact]
    public async Task Null_filter_matches_a_missing_or_null_field_and_its_negation_the_rest()
    {
        await using var store = await SeededStoreAsync();

        var isNull = await store.GetAsync(Filter.IsNull("s"), 10);
        var notNull = await store.GetAsync(!Filter.IsNull("n"), 10);

        Assert.Equal([3L], isNull.Select(r => r.Key));
        Assert.Equal([1L, 2, 3], notNull.Select(r => r.Key));
        Assert.Equal(1, await store.CountAsync(Filter.IsNull("n")));
    }

    [SkippableFact]
    public async Task Array_equality_matches_the_same_elements_in_the_same_order_only()
    {
        await using var store = await SeededStoreAsync();

        Assert.Equal([1L], (await store.GetAsync(Filter.ArrayEq("tags", ["x", "y"]), 10)).Select(r => r.Key));
        Assert.Empty(await store.GetAsync(Filter.ArrayEq("tags", ["y", "x"]), 10));
        Assert.Empty(await store.GetAsync(Filter.ArrayEq("tags", ["x"]), 10));
    }

    [SkippableFact]
    public async Task A_date_filter_with_a_non_utc_offset_compares_the_instant()
    {
        await using var store = await SeededStoreAsync();
        var sameInstant = new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.FromHours(2));

        var equal = await store.GetAsync(Filter.Eq("at", sameInstant), 10);
        var after = await store.GetAsync(Filter.DateRange("at", gt: sameInstant), 10);

        Assert.Equal([1L], equal.Select(r => r.Key));
        Assert.Equal([2L], after.Select(r => r.Key));
    }

    [SkippableFact]
    public async Task A_single_pass_layout_finds_a_vector_whose_first_value_is_zero()
    {
        await using var store = await SeededStoreAsync();

        var result = await store.SearchAsync(new float[] { 0f, 1f, 2f }, new SearchOptions { K = 1 });

        Assert.Equal(2L, Assert.Single(result.Hits).Key);
    }
}
