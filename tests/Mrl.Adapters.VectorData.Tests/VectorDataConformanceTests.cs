using System.Globalization;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>
/// What an adaptive MEVD collection must do on every backend, in the spirit of MEVD's own conformance tests: collection
/// lifecycle, CRUD and batches, every filter kind, search order and scores, skip, score threshold, vectors in results,
/// dynamic records and embedding generation. One subclass per backend supplies the store factory.
/// </summary>
public abstract class VectorDataConformanceTests
{
    /// <summary>The backend under test; skips the test when the backend is not reachable.</summary>
    protected abstract IAdaptiveStoreFactory CreateFactory();

    /// <summary>A collection name no other test uses.</summary>
    protected static string NewName(string prefix = "hotels") =>
        prefix + "_" + Guid.NewGuid().ToString("N")[..10];

    protected async Task<VectorStoreCollection<long, Hotel>> HotelsAsync(IReadOnlyList<Hotel>? hotels = null, AdaptiveVectorStoreOptions? options = null)
    {
        var store = new AdaptiveVectorStore(CreateFactory(), options ?? new AdaptiveVectorStoreOptions { PrefixDimensions = 8 });
        var collection = store.GetCollection<long, Hotel>(NewName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(hotels ?? Corpus.Hotels());
        return collection;
    }

    /// <summary>Options that fetch every hotel as a candidate, so that the two-pass answer is the exact one.</summary>
    protected static AdaptiveVectorSearchOptions<Hotel> Exhaustive(Expression<Func<Hotel, bool>>? filter = null) =>
        new() { Oversampling = 64, Filter = filter };

    [SkippableFact]
    public async Task Collection_exists_only_between_ensure_and_delete()
    {
        var store = new AdaptiveVectorStore(CreateFactory(), new AdaptiveVectorStoreOptions { PrefixDimensions = 8 });
        var name = NewName();
        var collection = store.GetCollection<long, Hotel>(name);

        Assert.False(await collection.CollectionExistsAsync());
        await collection.EnsureCollectionExistsAsync();
        await collection.EnsureCollectionExistsAsync();
        Assert.True(await collection.CollectionExistsAsync());
        Assert.True(await store.CollectionExistsAsync(name));
        Assert.Contains(name, await store.ListCollectionNamesAsync().ToListAsync());

        await collection.EnsureCollectionDeletedAsync();
        await collection.EnsureCollectionDeletedAsync();
        Assert.False(await collection.CollectionExistsAsync());
        Assert.DoesNotContain(name, await store.ListCollectionNamesAsync().ToListAsync());
    }

    [SkippableFact]
    public async Task Upserted_record_reads_back_with_every_data_property_and_without_its_vector()
    {
        var hotels = Corpus.Hotels(12);
        var collection = await HotelsAsync(hotels);

        var read = await collection.GetAsync(6);

        Assert.NotNull(read);
        var expected = hotels[5];
        Assert.Equal(expected.HotelId, read.HotelId);
        Assert.Equal(expected.HotelName, read.HotelName);
        Assert.Equal(expected.Rating, read.Rating);
        Assert.Equal(expected.Price, read.Price);
        Assert.Equal(expected.Discount, read.Discount);
        Assert.Equal(expected.Parking, read.Parking);
        Assert.Equal(expected.Opened, read.Opened);
        Assert.Equal(expected.Tags, read.Tags);
        Assert.Equal(expected.Amenities, read.Amenities);
        Assert.Equal(expected.Description, read.Description);
        Assert.Null(read.Embedding);
    }

    [SkippableFact]
    public async Task Get_with_include_vectors_returns_the_full_vector()
    {
        var hotels = Corpus.Hotels(12);
        var collection = await HotelsAsync(hotels);

        var read = await collection.GetAsync(3, new RecordRetrievalOptions { IncludeVectors = true });

        Assert.NotNull(read?.Embedding);
        Assert.Equal(hotels[2].Embedding!.Value.ToArray(), read.Embedding.Value.ToArray());
    }

    [SkippableFact]
    public async Task Get_of_a_missing_key_returns_null()
    {
        var collection = await HotelsAsync(Corpus.Hotels(3));

        Assert.Null(await collection.GetAsync(999));
    }

    [SkippableFact]
    public async Task Upsert_of_an_existing_key_replaces_the_record()
    {
        var hotels = Corpus.Hotels(5);
        var collection = await HotelsAsync(hotels);
        var changed = hotels[1];
        changed.HotelName = "renamed";
        changed.Tags = ["new"];

        await collection.UpsertAsync(changed);

        var read = await collection.GetAsync(changed.HotelId);
        Assert.Equal("renamed", read!.HotelName);
        Assert.Equal(["new"], read.Tags);
    }

    [SkippableFact]
    public async Task Batch_get_returns_the_records_that_exist_and_batch_delete_removes_them()
    {
        var collection = await HotelsAsync(Corpus.Hotels(20));

        var found = await collection.GetAsync([2L, 4L, 999L, 6L]).ToListAsync();
        Assert.Equal([2L, 4L, 6L], found.Select(h => h.HotelId).Order());

        await collection.DeleteAsync([2L, 4L, 999L]);
        Assert.Null(await collection.GetAsync(2));
        Assert.Null(await collection.GetAsync(4));
        Assert.NotNull(await collection.GetAsync(6));

        await collection.DeleteAsync(6);
        Assert.Null(await collection.GetAsync(6));
    }

    [SkippableFact]
    public async Task Search_returns_the_exact_top_k_in_order_with_cosine_scores()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var query = Corpus.Query();

        var results = await collection.SearchAsync(query, 5, Exhaustive()).ToListAsync();

        var expected = Corpus.ExactTop(hotels, query, 5);
        Assert.Equal(expected.Select(e => e.Hotel.HotelId), results.Select(r => r.Record.HotelId));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Score, results[i].Score!.Value, 4);
        }

        Assert.Equal(expected[0].Hotel.HotelName, results[0].Record.HotelName);
        Assert.All(results, r => Assert.Null(r.Record.Embedding));
    }

    [SkippableFact]
    public async Task Search_with_default_options_finds_the_nearest_hotel_first()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var query = hotels[17].Embedding!.Value;

        var results = await collection.SearchAsync(query, 3).ToListAsync();

        Assert.Equal(3, results.Count);
        Assert.Equal(18, results[0].Record.HotelId);
        Assert.Equal(1.0, results[0].Score!.Value, 4);
    }

    [SkippableFact]
    public async Task Search_accepts_float_arrays_memory_and_embeddings_as_queries()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var query = Corpus.Query(1);

        var fromMemory = await collection.SearchAsync(query, 4, Exhaustive()).Select(r => r.Record.HotelId).ToListAsync();
        var fromArray = await collection.SearchAsync(query.ToArray(), 4, Exhaustive()).Select(r => r.Record.HotelId).ToListAsync();
        var fromEmbedding = await collection.SearchAsync(new Microsoft.Extensions.AI.Embedding<float>(query), 4, Exhaustive()).Select(r => r.Record.HotelId).ToListAsync();
        var fromWritableMemory = await collection.SearchAsync(query.ToArray().AsMemory(), 4, Exhaustive()).Select(r => r.Record.HotelId).ToListAsync();

        Assert.Equal(fromMemory, fromArray);
        Assert.Equal(fromMemory, fromEmbedding);
        Assert.Equal(fromMemory, fromWritableMemory);
    }

    [SkippableFact]
    public async Task Skip_returns_the_next_page_of_the_same_ranking()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var query = Corpus.Query();

        var firstTen = await collection.SearchAsync(query, 10, Exhaustive()).Select(r => r.Record.HotelId).ToListAsync();
        var options = Exhaustive();
        options.Skip = 4;
        var page = await collection.SearchAsync(query, 3, options).Select(r => r.Record.HotelId).ToListAsync();

        Assert.Equal(firstTen.Skip(4).Take(3), page);
    }

    [SkippableFact]
    public async Task Score_threshold_drops_results_less_similar_than_it()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var query = Corpus.Query();
        var exact = Corpus.ExactTop(hotels, query, 10);
        var threshold = (exact[3].Score + exact[4].Score) / 2;
        var options = Exhaustive();
        options.ScoreThreshold = threshold;

        var results = await collection.SearchAsync(query, 10, options).ToListAsync();

        Assert.Equal(exact.Take(4).Select(e => e.Hotel.HotelId), results.Select(r => r.Record.HotelId));
        Assert.All(results, r => Assert.True(r.Score >= threshold));
    }

    [SkippableFact]
    public async Task Search_with_include_vectors_returns_each_hits_full_vector()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var options = Exhaustive();
        options.IncludeVectors = true;

        var results = await collection.SearchAsync(Corpus.Query(), 3, options).ToListAsync();

        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Equal(hotels[(int)r.Record.HotelId - 1].Embedding!.Value.ToArray(), r.Record.Embedding!.Value.ToArray()));
    }

    [SkippableFact]
    public async Task Rerank_none_returns_prefix_results_and_in_database_rerank_the_exact_ones()
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var query = Corpus.Query();

        var prefixOnly = await collection.SearchAsync(query, 5, new AdaptiveVectorSearchOptions<Hotel> { Strategy = SearchStrategy.PrefixOnly, EfSearch = 100 }).ToListAsync();
        var inDatabase = await collection.SearchAsync(query, 5, new AdaptiveVectorSearchOptions<Hotel> { Strategy = SearchStrategy.TwoPassInDatabase, Oversampling = 64 }).ToListAsync();

        Assert.Equal(5, prefixOnly.Count);
        Assert.Equal(Corpus.ExactTop(hotels, query, 5).Select(e => e.Hotel.HotelId), inDatabase.Select(r => r.Record.HotelId));
    }

    public static TheoryData<string> FilterCases() => [.. Filters.Keys];

    private static readonly Dictionary<string, Expression<Func<Hotel, bool>>> Filters = BuildFilters();

    private static Dictionary<string, Expression<Func<Hotel, bool>>> BuildFilters()
    {
        var city = "rome";
        var minRating = 3;
        string[] names = ["hotel-01", "hotel-05", "hotel-42"];
        List<int> ratings = [1, 5];
        var since = Corpus.Epoch.AddDays(140);
        return new()
        {
            ["equal string"] = h => h.HotelName == "hotel-07",
            ["equal int, constant on the left"] = h => 4 == h.Rating,
            ["equal float"] = h => h.Discount == 0.1f,
            ["equal bool"] = h => h.Parking == true,
            ["not equal"] = h => h.Rating != 3,
            ["less than"] = h => h.Rating < 3,
            ["less than or equal"] = h => h.Price <= 80,
            ["greater than"] = h => h.Price > 150.5,
            ["greater than or equal, captured variable"] = h => h.Rating >= minRating,
            ["date range"] = h => h.Opened >= since && h.Opened < since.AddDays(70),
            ["bare bool"] = h => h.Parking,
            ["negated bool"] = h => !h.Parking,
            ["and"] = h => h.Rating >= 2 && h.Parking,
            ["or"] = h => h.Rating == 1 || h.HotelName == "hotel-08",
            ["not of and"] = h => !(h.Rating > 2 && h.Price < 120),
            ["captured array contains field"] = h => names.Contains(h.HotelName),
            ["captured list contains field"] = h => ratings.Contains(h.Rating),
            ["inline array contains field"] = h => new[] { 2, 3 }.Contains(h.Rating),
            ["array field contains captured value"] = h => h.Tags.Contains(city),
            ["list field contains value"] = h => h.Amenities.Contains("spa"),
            ["tag and range"] = h => h.Tags.Contains("even") && h.Price < 100,
            ["nullable description equal"] = h => h.Description == "a hotel with number 13",
        };
    }

    [SkippableTheory]
    [MemberData(nameof(FilterCases))]
    public async Task Filter_returns_the_exact_top_k_of_the_matching_records(string name)
    {
        var hotels = Corpus.Hotels();
        var collection = await HotelsAsync(hotels);
        var filter = Filters[name];
        var query = Corpus.Query(2);
        var matching = hotels.Where(filter.Compile()).ToList();
        Assert.NotEmpty(matching);
        Assert.NotEqual(hotels.Count, matching.Count);

        var results = await collection.SearchAsync(query, 6, Exhaustive(filter)).ToListAsync();

        Assert.Equal(Corpus.ExactTop(matching, query, 6).Select(e => e.Hotel.HotelId), results.Select(r => r.Record.HotelId));
    }

    [SkippableFact]
    public async Task Filter_on_an_empty_list_matches_nothing()
    {
        var collection = await HotelsAsync(Corpus.Hotels(10));
        var none = new List<string>();

        var results = await collection.SearchAsync(Corpus.Query(), 5, Exhaustive(h => none.Contains(h.HotelName))).ToListAsync();

        Assert.Empty(results);
    }

    [SkippableFact]
    public async Task Unsupported_filter_throws_naming_the_expression()
    {
        var collection = await HotelsAsync(Corpus.Hotels(5));

        var error = await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync(Corpus.Query(), 3, Exhaustive(h => h.HotelName.StartsWith("hotel", StringComparison.Ordinal))).ToListAsync());

        Assert.Contains("StartsWith", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Dynamic_collection_stores_searches_and_filters_dictionaries()
    {
        var store = new AdaptiveVectorStore(CreateFactory(), new AdaptiveVectorStoreOptions { PrefixDimensions = 8 });
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(string)),
                new VectorStoreDataProperty("City", typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty("Stars", typeof(int)),
                new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), Corpus.Dimensions),
            ],
        };
        var collection = store.GetDynamicCollection(NewName("dynamic"), definition);
        await collection.EnsureCollectionExistsAsync();
        var vectors = Corpus.Vectors(30);
        var records = Enumerable.Range(0, 30).Select(i => new Dictionary<string, object?>
        {
            ["Key"] = "doc-" + i.ToString(CultureInfo.InvariantCulture),
            ["City"] = i % 2 == 0 ? "paris" : "rome",
            ["Stars"] = i % 5,
            ["Vector"] = new ReadOnlyMemory<float>(vectors, i * Corpus.Dimensions, Corpus.Dimensions),
        }).ToList();
        await collection.UpsertAsync(records);

        var read = await collection.GetAsync("doc-3", new RecordRetrievalOptions { IncludeVectors = true });
        var results = await collection.SearchAsync(records[4]["Vector"]!, 3, new AdaptiveVectorSearchOptions<Dictionary<string, object?>>
        {
            Oversampling = 30,
            Filter = r => (string)r["City"]! == "paris" && (int)r["Stars"]! >= 2,
        }).ToListAsync();

        Assert.NotNull(read);
        Assert.Equal("rome", read["City"]);
        Assert.Equal(3, read["Stars"]);
        Assert.Equal(((ReadOnlyMemory<float>)records[3]["Vector"]!).ToArray(), ((ReadOnlyMemory<float>)read["Vector"]!).ToArray());
        Assert.Equal("doc-4", results[0].Record["Key"]);
        Assert.All(results, r => Assert.True((string)r.Record["City"]! == "paris" && (int)r.Record["Stars"]! >= 2));
        Assert.Equal(3, results.Count);

        await collection.DeleteAsync("doc-4");
        Assert.Null(await collection.GetAsync("doc-4"));
    }

    [SkippableFact]
    public async Task Text_vector_property_is_embedded_once_per_batch_at_the_collections_dimensions()
    {
        using var generator = new HashingEmbeddingGenerator(Corpus.Dimensions);
        var store = new AdaptiveVectorStore(CreateFactory(), new AdaptiveVectorStoreOptions { EmbeddingGenerator = generator, PrefixDimensions = 8 });
        var collection = store.GetCollection<Guid, Note>(NewName("notes"));
        await collection.EnsureCollectionExistsAsync();
        string[] texts = ["red apples", "green pears", "blue berries", "yellow bananas", "red cherries"];
        var notes = texts.Select(t => new Note { Text = t, Body = t }).ToList();

        await collection.UpsertAsync(notes);

        Assert.Equal(1, generator.Calls);
        Assert.Equal(texts.Length, generator.Inputs);
        Assert.Equal(Corpus.Dimensions, generator.LastDimensions);
        Assert.All(notes, n => Assert.NotEqual(Guid.Empty, n.Id));

        var results = await collection.SearchAsync("blue berries", 2, new AdaptiveVectorSearchOptions<Note> { Oversampling = 5 }).ToListAsync();

        Assert.Equal(2, generator.Calls);
        Assert.Equal(Corpus.Dimensions, generator.LastDimensions);
        Assert.Equal("blue berries", results[0].Record.Body);
        Assert.Equal(1.0, results[0].Score!.Value, 4);
        await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync("red", 1, new VectorSearchOptions<Note> { IncludeVectors = true }).ToListAsync());
    }

    [SkippableTheory]
    [InlineData(DistanceFunction.EuclideanDistance, DistanceMetric.Euclidean)]
    [InlineData(DistanceFunction.ManhattanDistance, DistanceMetric.Manhattan)]
    public async Task Distance_scores_are_distances_and_the_threshold_is_an_upper_bound(string function, DistanceMetric metric)
    {
        var store = new AdaptiveVectorStore(CreateFactory(), new AdaptiveVectorStoreOptions { PrefixDimensions = 8 });
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(Hotel.HotelId), typeof(long)),
                new VectorStoreDataProperty(nameof(Hotel.HotelName), typeof(string)),
                new VectorStoreVectorProperty(nameof(Hotel.Embedding), typeof(ReadOnlyMemory<float>?), Corpus.Dimensions)
                {
                    DistanceFunction = function,
                },
            ],
        };
        var hotels = Corpus.Hotels();
        var collection = store.GetCollection<long, Hotel>(NewName(metric == DistanceMetric.Euclidean ? "euclid" : "manhattan"), definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(hotels);
        var query = Corpus.Query();
        var exact = Corpus.ExactTop(hotels, query, 5, metric);
        var threshold = -(exact[2].Score + exact[3].Score) / 2;
        var options = Exhaustive();
        options.ScoreThreshold = threshold;

        var results = await collection.SearchAsync(query, 5, options).ToListAsync();

        Assert.Equal(exact.Take(3).Select(e => e.Hotel.HotelId), results.Select(r => r.Record.HotelId));
        Assert.Equal(-exact[0].Score, results[0].Score!.Value, 4);
        Assert.True(results[0].Score < results[1].Score);
    }

    [SkippableFact]
    public async Task A_layout_that_differs_from_the_existing_collection_fails_with_the_operation_and_collection_named()
    {
        var factory = CreateFactory();
        var name = NewName("mismatch");
        var narrow = new AdaptiveVectorStore(factory, new AdaptiveVectorStoreOptions { PrefixDimensions = 8 }).GetCollection<long, Hotel>(name);
        await narrow.EnsureCollectionExistsAsync();
        await narrow.UpsertAsync(Corpus.Hotels(3));
        var wider = new AdaptiveVectorStore(factory, new AdaptiveVectorStoreOptions { PrefixDimensions = 16 }).GetCollection<long, Hotel>(name);

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => wider.EnsureCollectionExistsAsync());

        Assert.Equal("EnsureCollectionExists", error.OperationName);
        Assert.Equal(name, error.CollectionName);
        Assert.Equal(factory.SystemName, error.VectorStoreSystemName);
        Assert.NotNull(error.InnerException);
    }

    [SkippableFact]
    public async Task Wrong_vector_length_is_an_argument_error_naming_the_record()
    {
        var collection = await HotelsAsync(Corpus.Hotels(2));
        var bad = Corpus.Hotels(3)[2];
        bad.Embedding = new float[5];

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => collection.UpsertAsync(bad));

        Assert.Contains("3", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Collection_metadata_names_the_system_and_collection()
    {
        var collection = await HotelsAsync(Corpus.Hotels(1));

        var metadata = collection.GetService(typeof(VectorStoreCollectionMetadata)) as VectorStoreCollectionMetadata;

        Assert.Equal(CreateFactory().SystemName, metadata?.VectorStoreSystemName);
        Assert.Equal(collection.Name, metadata?.CollectionName);
        Assert.Equal(new EmbeddingLayout(32, 8), collection.GetService(typeof(EmbeddingLayout)));
        Assert.NotNull(collection.GetService(typeof(IAdaptiveStore<long>)));
    }

    private async Task<VectorStoreCollection<int, Probe>> ProbesAsync()
    {
        var collection = new AdaptiveVectorStore(CreateFactory()).GetCollection<int, Probe>(NewName("probes"));
        await collection.EnsureCollectionExistsAsync();
        var at = new DateTimeOffset(2024, 1, 1, 10, 0, 0, TimeSpan.Zero);
        await collection.UpsertAsync(
        [
            new Probe { Id = 1, Text = "b", Number = 3, Time = new(12, 30, 45), Date = new(2020, 1, 1), At = at, Small = 1, Amount = 1.5m, Reference = new Guid("11111111-1111-1111-1111-111111111111"), Tags = ["x", "y"], Vector = new float[] { 0, 1, 2 } },
            new Probe { Id = 2, Text = "a", Number = 1, Time = new(13, 40, 55), Date = new(2021, 2, 3), At = at.AddDays(1), Small = 2, Amount = 2.5m, Reference = Guid.Empty, Tags = ["z"], Vector = new float[] { 0, 2, 1 } },
            new Probe { Id = 3, Text = null, Number = 2, Tags = [], Vector = new float[] { 1, 0, 0 } },
            new Probe { Id = 4, Text = "c", Number = null, Tags = ["y"], Vector = new float[] { 0, 0, 1 } },
        ]);
        return collection;
    }

    [SkippableFact]
    public async Task Short_vectors_whose_first_value_is_zero_are_written_and_found_exactly()
    {
        var collection = await ProbesAsync();

        var best = await collection.SearchAsync(new ReadOnlyMemory<float>([0, 1, 2]), top: 2).ToListAsync();

        Assert.Equal(new EmbeddingLayout(3, 3), collection.GetService(typeof(EmbeddingLayout)));
        Assert.Equal([1, 4], best.Select(r => r.Record.Id));
        Assert.Equal(1.0, best[0].Score!.Value, 5);
    }

    [SkippableFact]
    public async Task Listing_by_filter_applies_skip_order_and_vectors()
    {
        var collection = await ProbesAsync();

        var ascending = await collection.GetAsync(p => p.Number > 0, 10, new() { OrderBy = o => o.Ascending(p => p.Number) }).ToListAsync();
        var page = await collection.GetAsync(p => true, 2, new() { Skip = 1, OrderBy = o => o.Descending(p => p.Text).Ascending(p => p.Number), IncludeVectors = true }).ToListAsync();
        var all = await collection.GetAsync(p => true, 10).ToListAsync();

        Assert.Equal([2, 3, 1], ascending.Select(p => p.Id));
        Assert.Equal([1, 2], page.Select(p => p.Id));
        Assert.Equal([0f, 1f, 2f], page[0].Vector.ToArray());
        Assert.Equal([1, 2, 3, 4], all.Select(p => p.Id).Order());
        Assert.True(all[0].Vector.IsEmpty);
    }

    [SkippableFact]
    public async Task Filters_compare_with_null_as_csharp_does()
    {
        var collection = await ProbesAsync();

        Assert.Equal(new[] { 3 }, await IdsAsync(collection, p => p.Text == null));
        Assert.Equal(new[] { 1, 2, 4 }, await IdsAsync(collection, p => p.Text != null));
        Assert.Equal(new[] { 4 }, await IdsAsync(collection, p => p.Number == null));
        Assert.Equal(new[] { 1, 2, 3 }, await IdsAsync(collection, p => p.Text != "c"));
        string?[] wanted = ["a", null];
        Assert.Equal(new[] { 2, 3 }, await IdsAsync(collection, p => wanted.Contains(p.Text)));
    }

    [SkippableFact]
    public async Task Any_with_a_captured_list_matches_an_array_holding_one_of_its_values()
    {
        var collection = await ProbesAsync();
        string[] wanted = ["y", "nope"];
        string[] none = [];

        Assert.Equal(new[] { 1, 4 }, await IdsAsync(collection, p => p.Tags.Any(t => wanted.Contains(t))));
        Assert.Empty(await IdsAsync(collection, p => p.Tags.Any(t => none.Contains(t))));
    }

    [SkippableFact]
    public async Task Every_scalar_type_reads_back_and_filters_by_equality()
    {
        var collection = await ProbesAsync();
        var read = await collection.GetAsync(1);
        var local = new DateTimeOffset(2024, 1, 1, 12, 0, 0, TimeSpan.FromHours(2));

        Assert.NotNull(read);
        Assert.Equal(new TimeOnly(12, 30, 45), read.Time);
        Assert.Equal(new DateOnly(2020, 1, 1), read.Date);
        Assert.Equal((byte)1, read.Small);
        Assert.Equal(1.5m, read.Amount);
        Assert.Equal(new[] { 1 }, await IdsAsync(collection, p => p.Time == new TimeOnly(12, 30, 45)));
        Assert.Equal(new[] { 1 }, await IdsAsync(collection, p => p.Date == new DateOnly(2020, 1, 1)));
        Assert.Equal(new[] { 1 }, await IdsAsync(collection, p => p.At == local));
        Assert.Equal(new[] { 2 }, await IdsAsync(collection, p => p.At > local));
        Assert.Equal(new[] { 2 }, await IdsAsync(collection, p => p.Small == 2));
        Assert.Equal(new[] { 1 }, await IdsAsync(collection, p => p.Amount == 1.5m));
        Assert.Equal(new[] { 1 }, await IdsAsync(collection, p => p.Reference == new Guid("11111111-1111-1111-1111-111111111111")));
        string[] tags = ["x", "y"];
        Assert.Equal(new[] { 1 }, await IdsAsync(collection, p => p.Tags == tags));
    }

    private static async Task<int[]> IdsAsync(VectorStoreCollection<int, Probe> collection, Expression<Func<Probe, bool>> filter)
    {
        var listed = (await collection.GetAsync(filter, 10).ToListAsync()).Select(p => p.Id).Order().ToArray();
        var searched = (await collection.SearchAsync(new ReadOnlyMemory<float>([0, 1, 2]), 10, new() { Filter = filter }).ToListAsync())
            .Select(r => r.Record.Id).Order().ToArray();
        Assert.Equal(listed, searched);
        return listed;
    }
}
