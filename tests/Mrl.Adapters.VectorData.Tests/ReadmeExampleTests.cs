using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>The README's Semantic Kernel-style example, run on the in-memory store, so that the README stays true.</summary>
public sealed class ReadmeExampleTests
{
    public sealed class Hotel
    {
        [VectorStoreKey]
        public long HotelId { get; set; }

        [VectorStoreData(IsIndexed = true)]
        public string HotelName { get; set; } = "";

        [VectorStoreData]
        public string Description { get; set; } = "";

        [VectorStoreData(IsIndexed = true)]
        public string[] Tags { get; set; } = [];

        [VectorStoreData(IsIndexed = true)]
        public int Rating { get; set; }

        // Embedded by the registered IEmbeddingGenerator at the full 3,072 dimensions; the store indexes the first 256.
        [VectorStoreVector(3072, DistanceFunction = DistanceFunction.CosineSimilarity)]
        public string DescriptionEmbedding => Description;
    }

    [Fact]
    public async Task The_readme_example_registers_upserts_and_searches_with_a_filter()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IAdaptiveStoreFactory>(new InMemoryAdaptiveStoreFactory());
        services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(new HashingEmbeddingGenerator(3072));
        services.AddAdaptiveVectorStore(configure: options => options.PrefixDimensions = 256);
        await using var provider = services.BuildServiceProvider();

        var vectorStore = provider.GetRequiredService<VectorStore>();
        var hotels = vectorStore.GetCollection<long, Hotel>("hotels");
        await hotels.EnsureCollectionExistsAsync();
        await hotels.UpsertAsync(
        [
            new Hotel { HotelId = 1, HotelName = "Dune", Description = "a quiet place near the sea", Tags = ["sea", "quiet"], Rating = 5 },
            new Hotel { HotelId = 2, HotelName = "Metro", Description = "rooms above the central station", Tags = ["city"], Rating = 4 },
            new Hotel { HotelId = 3, HotelName = "Pier", Description = "a loud bar by the harbour", Tags = ["sea"], Rating = 3 },
        ]);

        var found = new List<string>();
        await foreach (var result in hotels.SearchAsync("a quiet place near the sea", top: 5, new AdaptiveVectorSearchOptions<Hotel>
        {
            Filter = h => h.Rating >= 4 && h.Tags.Contains("sea"),
            Oversampling = 16,
        }))
        {
            found.Add($"{result.Record.HotelName}: {result.Score:F3}");
        }

        Assert.Equal(["Dune: 1.000"], found);
        Assert.Equal(new EmbeddingLayout(3072, 256), ((AdaptiveVectorStoreCollection<long, Hotel>)hotels).Layout);
    }
}
