using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Xunit;

namespace Mrl.Adapters.Testing;

/// <summary>
/// The behaviour every <see cref="IAdaptiveStore{TKey}"/> must show. Derive one class per store and key type,
/// implement <see cref="CreateStoreAsync"/> and <see cref="KeyFor"/>, and xunit runs the suite against it.
/// </summary>
/// <typeparam name="TKey">The key type under test.</typeparam>
public abstract class AdaptiveStoreConformanceTests<TKey> where TKey : notnull
{
    /// <summary>Full dimensions of the default test layout.</summary>
    protected const int Dimensions = 32;

    /// <summary>Prefix dimensions of the default test layout.</summary>
    protected const int PrefixDimensions = 8;

    /// <summary>Creates a new, empty store with this layout, its schema ensured. Throw <c>SkipException</c> (Skip.If) when the backend is not reachable.</summary>
    protected abstract Task<IAdaptiveStore<TKey>> CreateStoreAsync(EmbeddingLayout layout);

    /// <summary>A distinct key for each non-negative <paramref name="i"/>.</summary>
    protected abstract TKey KeyFor(int i);

    /// <summary>Whether the store runs <see cref="SearchStrategy.FullDimension"/> for the default layout.</summary>
    protected virtual bool SupportsFullDimensionSearch => true;

    /// <summary>The default test layout: 32 dimensions, an 8-dimension prefix, cosine.</summary>
    protected static EmbeddingLayout DefaultLayout(DistanceMetric metric = DistanceMetric.Cosine) => new(Dimensions, PrefixDimensions, metric);

    /// <summary>
    /// Records 0..count-1 with MRL-like vectors and a payload: <c>category</c> ("c0".."c3", absent when i % 10 == 9),
    /// <c>rank</c> (i), <c>score</c> (i / 2.0), <c>even</c> (bool) and <c>created</c> (2024-01-01 plus i days, ISO 8601).
    /// </summary>
    protected IReadOnlyList<VectorRecord<TKey>> MakeRecords(int count, int seed = 7, int dimensions = Dimensions)
    {
        var data = ConformanceVectors.Generate(count, dimensions, seed);
        var records = new VectorRecord<TKey>[count];
        for (var i = 0; i < count; i++)
        {
            records[i] = new VectorRecord<TKey>(KeyFor(i), data.AsMemory(i * dimensions, dimensions), Payload(i));
        }

        return records;
    }

    /// <summary>The payload <see cref="MakeRecords"/> gives record <paramref name="i"/>.</summary>
    protected static JsonElement Payload(int i)
    {
        var fields = new Dictionary<string, object>
        {
            ["rank"] = i,
            ["score"] = i / 2.0,
            ["even"] = i % 2 == 0,
            ["created"] = ConformanceCases.Epoch.AddDays(i).ToString("O", CultureInfo.InvariantCulture),
        };
        if (i % 10 != 9)
        {
            fields["category"] = "c" + (i % 4).ToString(CultureInfo.InvariantCulture);
        }

        return JsonSerializer.SerializeToElement(fields);
    }

    /// <summary>Upsert, then get, gives back the same vector and payload.</summary>
    [SkippableFact]
    public async Task Upsert_then_get_returns_the_same_vector_and_payload()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(20);
        await store.UpsertAsync(records);

        foreach (var expected in records)
        {
            var actual = await store.GetAsync(expected.Key);
            Assert.NotNull(actual);
            Assert.Equal(expected.Key, actual.Key);
            AssertClose(expected.Vector.Span, actual.Vector.Span, 1e-6f);
            Assert.NotNull(actual.Payload);
            Assert.Equal(expected.Payload!.Value.GetProperty("rank").GetInt32(), actual.Payload.Value.GetProperty("rank").GetInt32());
            Assert.Equal(expected.Payload!.Value.TryGetProperty("category", out var c) ? c.GetString() : null,
                actual.Payload.Value.TryGetProperty("category", out var a) ? a.GetString() : null);
        }

        Assert.Equal(20, await store.CountAsync());
    }

    /// <summary>A record without a payload round-trips too.</summary>
    [SkippableFact]
    public async Task Record_without_payload_round_trips()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var record = MakeRecords(1)[0] with { Payload = null };
        await store.UpsertAsync([record]);

        var actual = await store.GetAsync(record.Key);
        Assert.NotNull(actual);
        AssertClose(record.Vector.Span, actual.Vector.Span, 1e-6f);
        var hits = (await store.SearchAsync(record.Vector, new SearchOptions { K = 1 })).Hits;
        Assert.Equal(record.Key, Assert.Single(hits).Key);
    }

    /// <summary>Upserting a key again replaces its vector and payload, and the search sees the new vector.</summary>
    [SkippableFact]
    public async Task Upsert_of_an_existing_key_overwrites_vector_and_payload()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(30);
        await store.UpsertAsync(records);

        var replacement = records[5] with { Vector = records[17].Vector, Payload = JsonSerializer.SerializeToElement(new { rank = 1000 }) };
        await store.UpsertAsync([replacement]);

        Assert.Equal(30, await store.CountAsync());
        var actual = await store.GetAsync(records[5].Key);
        Assert.NotNull(actual);
        AssertClose(records[17].Vector.Span, actual.Vector.Span, 1e-6f);
        Assert.Equal(1000, actual.Payload!.Value.GetProperty("rank").GetInt32());
        Assert.False(actual.Payload.Value.TryGetProperty("category", out _));

        var hits = (await store.SearchAsync(records[17].Vector, new SearchOptions { K = 2 })).Hits;
        Assert.Equal(2, hits.Count);
        Assert.Contains(hits, h => h.Key.Equals(records[5].Key));
        Assert.Contains(hits, h => h.Key.Equals(records[17].Key));
    }

    /// <summary>Delete removes the records, reports how many existed, and deleted records never come back from a search.</summary>
    [SkippableFact]
    public async Task Delete_removes_records_and_reports_how_many_existed()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(40);
        await store.UpsertAsync(records);

        var deleted = await store.DeleteAsync([records[3].Key, records[4].Key, KeyFor(9999)]);

        Assert.Equal(2, deleted);
        Assert.Equal(38, await store.CountAsync());
        Assert.Null(await store.GetAsync(records[3].Key));
        Assert.NotNull(await store.GetAsync(records[5].Key));
        var hits = (await store.SearchAsync(records[3].Vector, new SearchOptions { K = 38, Oversampling = 1 })).Hits;
        Assert.DoesNotContain(hits, h => h.Key.Equals(records[3].Key) || h.Key.Equals(records[4].Key));
        Assert.Equal(0, await store.DeleteAsync([records[3].Key]));
    }

    /// <summary>Get and delete of a key that was never written.</summary>
    [SkippableFact]
    public async Task Get_of_a_missing_key_returns_null()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        await store.UpsertAsync(MakeRecords(3));
        Assert.Null(await store.GetAsync(KeyFor(500)));
        Assert.Equal(0, await store.DeleteAsync([KeyFor(500)]));
    }

    /// <summary>An empty batch writes nothing and succeeds.</summary>
    [SkippableFact]
    public async Task Empty_batch_is_a_no_op()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        await store.UpsertAsync([]);
        Assert.Equal(0, await store.CountAsync());
        Assert.Empty((await store.SearchAsync(MakeRecords(1)[0].Vector, new SearchOptions())).Hits);
    }

    /// <summary>Every filter kind selects exactly the expected records, in counts and in searches.</summary>
    [SkippableTheory]
    [MemberData(nameof(ConformanceCases.FilterCases), MemberType = typeof(ConformanceCases))]
    public async Task Filter_selects_exactly_the_matching_records(string name)
    {
        var (filter, expected) = ConformanceCases.FilterCatalog[name];
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(60);
        await store.UpsertAsync(records);
        var expectedKeys = Enumerable.Range(0, 60).Where(expected).Select(KeyFor).ToHashSet();

        Assert.Equal(expectedKeys.Count, await store.CountAsync(filter));

        var result = await store.SearchAsync(records[0].Vector, new SearchOptions { K = 60, Oversampling = 1, Filter = filter });
        Assert.Equal(expectedKeys.OrderBy(k => k), result.Hits.Select(h => h.Key).OrderBy(k => k));

        var small = await store.SearchAsync(records[11].Vector, new SearchOptions { K = 3, Filter = filter });
        Assert.Equal(Math.Min(3, expectedKeys.Count), small.Hits.Count);
        Assert.All(small.Hits, h => Assert.Contains(h.Key, expectedKeys));
    }

    /// <summary>An invalid vector anywhere in a batch fails the whole batch with an ArgumentException that names the record, and nothing is written.</summary>
    [SkippableTheory]
    [MemberData(nameof(ConformanceCases.InvalidVectorCases), MemberType = typeof(ConformanceCases))]
    public async Task Invalid_vector_is_rejected_and_nothing_is_written(string name)
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(3).ToArray();
        var bad = records[2] with { Vector = ConformanceCases.InvalidVectors[name](records[2].Vector.ToArray()) };

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync([records[0], records[1], bad]));

        Assert.Contains(records[2].Key.ToString()!, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.CountAsync());
        Assert.Null(await store.GetAsync(records[0].Key));
    }

    /// <summary>A key twice in one batch is rejected before anything is written.</summary>
    [SkippableFact]
    public async Task Duplicate_key_in_one_batch_is_rejected_and_nothing_is_written()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(4);
        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync([records[0], records[1], records[0] with { Vector = records[2].Vector }]));
        Assert.Contains("more than once", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.CountAsync());
    }

    /// <summary>A payload that is not a JSON object is rejected.</summary>
    [SkippableFact]
    public async Task Payload_that_is_not_an_object_is_rejected()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var record = MakeRecords(1)[0] with { Payload = JsonSerializer.SerializeToElement("not an object") };
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync([record]));
        Assert.Equal(0, await store.CountAsync());
    }

    /// <summary>An invalid query is rejected with an ArgumentException.</summary>
    [SkippableFact]
    public async Task Invalid_query_is_rejected()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        await store.UpsertAsync(MakeRecords(5));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.SearchAsync(new float[Dimensions - 1], new SearchOptions()));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.SearchAsync(new float[Dimensions], new SearchOptions()));
        var nan = MakeRecords(1)[0].Vector.ToArray();
        nan[1] = float.NaN;
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.SearchAsync(nan, new SearchOptions()));
    }

    /// <summary>When K × Oversampling covers the whole collection, two-pass results equal exact full-dimension kNN.</summary>
    [SkippableTheory]
    [MemberData(nameof(ConformanceCases.Metrics), MemberType = typeof(ConformanceCases))]
    public async Task Two_pass_equals_exact_search_when_oversampling_covers_the_collection(DistanceMetric metric)
    {
        var layout = DefaultLayout(metric);
        var store = await CreateStoreAsync(layout);
        const int n = 200;
        var records = MakeRecords(n);
        await store.UpsertAsync(records);
        var matrix = records.SelectMany(r => r.Vector.ToArray()).ToArray();
        var queries = ConformanceVectors.Generate(5, Dimensions, seed: 7, stream: 1);

        for (var q = 0; q < 5; q++)
        {
            var query = queries.AsMemory(q * Dimensions, Dimensions);
            var exact = ExactKnn.Search(matrix, n, Dimensions, query, 10, metric);
            var result = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = n / 10 });

            Assert.Equal(exact.Select(e => records[e.Index].Key), result.Hits.Select(h => h.Key));
            for (var i = 0; i < exact.Length; i++)
            {
                Assert.Equal(exact[i].Score, result.Hits[i].Score, 3);
            }

            Assert.Equal(n, result.Diagnostics.CandidatesFetched);
        }
    }

    /// <summary>Hits come best first under every strategy, and prefix-only search scores on the prefix.</summary>
    [SkippableFact]
    public async Task Every_strategy_returns_k_hits_best_first()
    {
        var layout = DefaultLayout();
        var store = await CreateStoreAsync(layout);
        var records = MakeRecords(100);
        await store.UpsertAsync(records);
        var query = records[42].Vector;
        var expectedPrefixScore = layout.Score(layout.ToPrefix(query.Span), layout.ToPrefix(records[42].Vector.Span));

        List<SearchStrategy> strategies = [SearchStrategy.TwoPass, SearchStrategy.TwoPassInDatabase, SearchStrategy.PrefixOnly];
        foreach (var rerank in strategies)
        {
            var result = await store.SearchAsync(query, new SearchOptions { K = 5, Strategy = rerank });
            Assert.Equal(5, result.Hits.Count);
            Assert.Equal(records[42].Key, result.Hits[0].Key);
            Assert.True(result.Hits.Zip(result.Hits.Skip(1)).All(p => p.First.Score >= p.Second.Score), $"{rerank}: hits are not best first");
            Assert.Equal(rerank == SearchStrategy.PrefixOnly ? expectedPrefixScore : 1f, result.Hits[0].Score, 3);
        }
    }

    /// <summary>In-database rerank gives the same hits as in-process rerank.</summary>
    [SkippableFact]
    public async Task In_database_rerank_matches_in_process_rerank()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(150);
        await store.UpsertAsync(records);
        for (var q = 0; q < 5; q++)
        {
            var query = records[q * 29].Vector;
            var inProcess = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 4 });
            var inDatabase = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 4, Strategy = SearchStrategy.TwoPassInDatabase });
            Assert.Equal(inProcess.Hits.Select(h => h.Key), inDatabase.Hits.Select(h => h.Key));
            for (var i = 0; i < inProcess.Hits.Count; i++)
            {
                Assert.Equal(inProcess.Hits[i].Score, inDatabase.Hits[i].Score, 3);
            }
        }
    }

    /// <summary>The full-dimension single-pass baseline finds the exact neighbours on a small collection.</summary>
    [SkippableFact]
    public async Task Full_dimension_baseline_finds_the_exact_neighbours()
    {
        Skip.IfNot(SupportsFullDimensionSearch, "This store cannot search the full vectors in one pass.");
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(120);
        await store.UpsertAsync(records);
        var matrix = records.SelectMany(r => r.Vector.ToArray()).ToArray();
        var query = records[77].Vector;

        var exact = ExactKnn.Search(matrix, records.Count, Dimensions, query, 10, DistanceMetric.Cosine);
        var result = await store.SearchAsync(query, new SearchOptions { K = 10, Strategy = SearchStrategy.FullDimension });

        Assert.Equal(exact.Select(e => records[e.Index].Key), result.Hits.Select(h => h.Key));
        Assert.Equal(1f, result.Hits[0].Score, 3);
    }

    /// <summary>Concurrent writers and searchers: no errors, and every acknowledged write is readable afterwards.</summary>
    [SkippableFact]
    public async Task Concurrent_writes_and_searches_lose_nothing()
    {
        var store = await CreateStoreAsync(DefaultLayout());
        var records = MakeRecords(400);
        await store.UpsertAsync(records.Take(50).ToArray());
        var acknowledged = new ConcurrentBag<TKey>();
        var errors = new ConcurrentBag<Exception>();

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var start = 50 + (w * 10); start < records.Count; start += 40)
            {
                try
                {
                    var batch = records.Skip(start).Take(10).ToArray();
                    await store.UpsertAsync(batch);
                    foreach (var r in batch)
                    {
                        acknowledged.Add(r.Key);
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    errors.Add(e);
                }
            }
        }));
        var searchers = Enumerable.Range(0, 4).Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                try
                {
                    var result = await store.SearchAsync(records[(s * 25) + i].Vector, new SearchOptions { K = 5 });
                    Assert.NotEmpty(result.Hits);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    errors.Add(e);
                }
            }
        }));
        await Task.WhenAll(writers.Concat(searchers));

        Assert.Empty(errors);
        Assert.Equal(350, acknowledged.Count);
        Assert.Equal(400, await store.CountAsync());
        foreach (var key in acknowledged)
        {
            Assert.NotNull(await store.GetAsync(key));
        }
    }

    /// <summary>Asserts two vectors are equal within a tolerance.</summary>
    protected static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                string.Create(CultureInfo.InvariantCulture, $"Value {i}: expected {expected[i]}, got {actual[i]}."));
        }
    }
}
