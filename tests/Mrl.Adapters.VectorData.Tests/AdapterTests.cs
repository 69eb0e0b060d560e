using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>What does not depend on the backend: registration, options, translation errors and failure mapping.</summary>
public sealed class AdapterTests : IDisposable
{
    private readonly InMemoryAdaptiveStoreFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public void AddAdaptiveVectorStore_registers_the_store_as_VectorStore_with_the_factory_and_generator_from_the_container()
    {
        using var generator = new HashingEmbeddingGenerator(32);
        var services = new ServiceCollection()
            .AddSingleton<IAdaptiveStoreFactory>(_factory)
            .AddSingleton<IEmbeddingGenerator>(generator)
            .AddAdaptiveVectorStore(configure: o => o.PrefixDimensions = 8)
            .AddAdaptiveVectorStoreCollection<Guid, Note>("notes");
        using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<VectorStore>();
        var collection = provider.GetRequiredService<VectorStoreCollection<Guid, Note>>();

        Assert.IsType<AdaptiveVectorStore>(store);
        Assert.Same(store, provider.GetRequiredService<AdaptiveVectorStore>());
        Assert.Same(_factory, store.GetService(typeof(IAdaptiveStoreFactory)));
        Assert.Equal("notes", collection.Name);
        Assert.Equal(new EmbeddingLayout(32, 8), ((AdaptiveVectorStoreCollection<Guid, Note>)collection).Layout);
        Assert.Same(collection, provider.GetRequiredService<IVectorSearchable<Note>>());
        Assert.Same(collection, provider.GetRequiredService<AdaptiveVectorStoreCollection<Guid, Note>>());
    }

    [Theory]
    [InlineData(ServiceLifetime.Singleton)]
    [InlineData(ServiceLifetime.Scoped)]
    [InlineData(ServiceLifetime.Transient)]
    public void Collections_are_registered_as_their_concrete_type_too_plain_and_keyed(ServiceLifetime lifetime)
    {
        var services = new ServiceCollection()
            .AddAdaptiveVectorStore(_ => _factory)
            .AddAdaptiveVectorStoreCollection<long, Hotel>("hotels", lifetime)
            .AddKeyedAdaptiveVectorStore("k", _ => _factory)
            .AddKeyedAdaptiveVectorStoreCollection<long, Hotel>("k", "hotels", lifetime);
        using var provider = services.BuildServiceProvider();
        using var scope = provider.CreateScope();

        Assert.Equal(lifetime, services.Single(d => d.ServiceType == typeof(AdaptiveVectorStoreCollection<long, Hotel>) && !d.IsKeyedService).Lifetime);
        Assert.NotNull(scope.ServiceProvider.GetRequiredService<AdaptiveVectorStoreCollection<long, Hotel>>());
        Assert.NotNull(scope.ServiceProvider.GetRequiredKeyedService<AdaptiveVectorStoreCollection<long, Hotel>>("k"));
        Assert.IsType<AdaptiveVectorStoreCollection<long, Hotel>>(scope.ServiceProvider.GetRequiredKeyedService<VectorStoreCollection<long, Hotel>>("k"));
    }

    [Fact]
    public async Task Keyed_registrations_resolve_their_own_factories()
    {
        using var other = new InMemoryAdaptiveStoreFactory();
        var services = new ServiceCollection()
            .AddKeyedSingleton<IAdaptiveStoreFactory>("a", _factory)
            .AddKeyedAdaptiveVectorStore("a", configure: o => o.PrefixDimensions = 8)
            .AddKeyedAdaptiveVectorStore("b", _ => other, o => o.PrefixDimensions = 4)
            .AddKeyedAdaptiveVectorStoreCollection<long, Hotel>("b", "hotels");
        await using var provider = services.BuildServiceProvider();

        var a = provider.GetRequiredKeyedService<VectorStore>("a");
        var b = provider.GetRequiredKeyedService<VectorStore>("b");
        var hotels = provider.GetRequiredKeyedService<VectorStoreCollection<long, Hotel>>("b");
        await hotels.EnsureCollectionExistsAsync();

        Assert.NotSame(a, b);
        Assert.Same(_factory, a.GetService(typeof(IAdaptiveStoreFactory)));
        Assert.True(await other.CollectionExistsAsync("hotels"));
        Assert.False(await _factory.CollectionExistsAsync("hotels"));
        Assert.Null(provider.GetService<VectorStore>());
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(32, 32)]
    [InlineData(128, 32)]
    [InlineData(384, 64)]
    [InlineData(768, 128)]
    [InlineData(1536, 256)]
    [InlineData(3072, 256)]
    public void Default_prefix_is_the_whole_vector_below_128_dimensions_then_a_power_of_two_up_to_a_quarter_capped_at_256(int full, int prefix)
    {
        Assert.Equal(prefix, new AdaptiveVectorStoreCollectionOptions().ResolvePrefixDimensions(full));
        Assert.Equal(100, new AdaptiveVectorStoreCollectionOptions { PrefixDimensions = 100 }.ResolvePrefixDimensions(full));
    }

    [Fact]
    public async Task Writing_to_a_collection_that_was_never_created_is_a_VectorStoreException_naming_operation_and_collection()
    {
        var collection = new AdaptiveVectorStore(_factory).GetCollection<long, Hotel>("missing");

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync(Corpus.Hotels(1)));

        Assert.Equal("Upsert", error.OperationName);
        Assert.Equal("missing", error.CollectionName);
        Assert.Equal("inmemory", error.VectorStoreSystemName);
        Assert.IsType<InvalidOperationException>(error.InnerException);
    }

    [Fact]
    public async Task Cosine_distance_scores_are_one_minus_similarity_and_the_threshold_is_an_upper_bound()
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(Hotel.HotelId), typeof(long)),
                new VectorStoreVectorProperty(nameof(Hotel.Embedding), typeof(ReadOnlyMemory<float>?), Corpus.Dimensions)
                {
                    DistanceFunction = DistanceFunction.CosineDistance,
                },
            ],
        };
        var hotels = Corpus.Hotels();
        var collection = new AdaptiveVectorStore(_factory).GetCollection<long, Hotel>("distance", definition);
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(hotels);
        var query = Corpus.Query();
        var exact = Corpus.ExactTop(hotels, query, 4);

        var results = await collection.SearchAsync(query, 4, new AdaptiveVectorSearchOptions<Hotel>
        {
            Oversampling = 64,
            ScoreThreshold = 1 - (exact[1].Score + exact[2].Score) / 2,
        }).ToListAsync();

        Assert.Equal(2, results.Count);
        Assert.Equal(1 - exact[0].Score, results[0].Score!.Value, 4);
        Assert.True(results[0].Score <= results[1].Score);
    }

    [Fact]
    public void Hamming_distance_has_no_store_metric_and_is_refused()
    {
        const string function = DistanceFunction.HammingDistance;
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Id", typeof(long)),
                new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 32) { DistanceFunction = function },
            ],
        };

        var error = Assert.ThrowsAny<Exception>(() => new AdaptiveVectorStore(_factory).GetDynamicCollection("x", definition));

        Assert.Contains(function, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dictionary_record_type_needs_the_dynamic_collection()
    {
        Assert.Throws<NotSupportedException>(() => new AdaptiveVectorStoreCollection<object, Dictionary<string, object?>>(_factory, "x"));
    }

    [Fact]
    public async Task Filters_on_the_key_or_comparing_strings_are_refused_with_the_expression_and_the_reason()
    {
        var collection = new AdaptiveVectorStore(_factory).GetCollection<long, Hotel>("refusals");
        await collection.EnsureCollectionExistsAsync();

        var onKey = await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync(Corpus.Query(), 1, new VectorSearchOptions<Hotel> { Filter = h => h.HotelId == 3 }).ToListAsync());
        var onStringRange = await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync(Corpus.Query(), 1, new VectorSearchOptions<Hotel> { Filter = h => string.Compare(h.HotelName, "b", StringComparison.Ordinal) > 0 }).ToListAsync());

        Assert.Contains("h.HotelId", onKey.Message, StringComparison.Ordinal);
        Assert.Contains("key property", onKey.Message, StringComparison.Ordinal);
        Assert.Contains("Compare", onStringRange.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_filter_expression_nested_thousands_deep_is_refused_with_an_ArgumentException()
    {
        var collection = new AdaptiveVectorStore(_factory).GetCollection<long, Hotel>("deep");
        await collection.EnsureCollectionExistsAsync();
        var hotel = System.Linq.Expressions.Expression.Parameter(typeof(Hotel), "h");
        var rating = System.Linq.Expressions.Expression.Property(hotel, nameof(Hotel.Rating));
        var body = Enumerable.Range(0, 12_000)
            .Select(i => (System.Linq.Expressions.Expression)System.Linq.Expressions.Expression.Equal(rating, System.Linq.Expressions.Expression.Constant(i)))
            .Aggregate(System.Linq.Expressions.Expression.OrElse);
        var filter = System.Linq.Expressions.Expression.Lambda<Func<Hotel, bool>>(body, hotel);
        var shallow = System.Linq.Expressions.Expression.Lambda<Func<Hotel, bool>>(
            Enumerable.Range(0, 100).Select(i => (System.Linq.Expressions.Expression)System.Linq.Expressions.Expression.Equal(rating, System.Linq.Expressions.Expression.Constant(i)))
                .Aggregate(System.Linq.Expressions.Expression.OrElse), hotel);

        var error = await Assert.ThrowsAsync<ArgumentException>(async () =>
            await collection.SearchAsync(Corpus.Query(), 1, new VectorSearchOptions<Hotel> { Filter = filter }).ToListAsync());

        Assert.Contains("nested more than", error.Message, StringComparison.Ordinal);
        Assert.Empty(await collection.SearchAsync(Corpus.Query(), 1, new VectorSearchOptions<Hotel> { Filter = shallow }).ToListAsync());
    }

    [Fact]
    public async Task Ordering_a_filtered_listing_by_the_key_is_refused()
    {
        var collection = new AdaptiveVectorStore(_factory).GetCollection<long, Hotel>("scan");
        await collection.EnsureCollectionExistsAsync();

        var error = await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.GetAsync(h => h.Rating > 1, 10, new FilteredRecordRetrievalOptions<Hotel> { OrderBy = o => o.Descending(h => h.HotelId) }).ToListAsync());

        Assert.Contains("key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_generator_that_ignores_the_requested_dimensions_is_reported()
    {
        using var generator = new HashingEmbeddingGenerator(32);
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(Note.Id), typeof(Guid)) { IsAutoGenerated = true },
                new VectorStoreVectorProperty(nameof(Note.Text), typeof(string), 24),
            ],
        };
        var collection = new AdaptiveVectorStore(_factory, new AdaptiveVectorStoreOptions { EmbeddingGenerator = new FixedSizeGenerator(generator) })
            .GetCollection<Guid, Note>("fixed", definition);
        await collection.EnsureCollectionExistsAsync();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => collection.UpsertAsync(new Note { Text = "x" }));

        Assert.Contains("32 dimensions although 24 were asked for", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Drops the requested dimensions, as a generator for a non-Matryoshka model would.</summary>
    private sealed class FixedSizeGenerator(IEmbeddingGenerator<string, Embedding<float>> inner) : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
            IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            inner.GenerateAsync(values, null, cancellationToken);

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
