using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Qdrant.Tests.Server;

/// <summary>The tests that need a Qdrant server share one <see cref="QdrantFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class QdrantServer : ICollectionFixture<QdrantFixture>
{
    public const string Name = "Qdrant server";

    /// <summary>A store on a fresh collection of the fixture's server, its schema ensured; skips when there is no server.</summary>
    internal static async Task<QdrantAdaptiveStore<TKey>> CreateStoreAsync<TKey>(QdrantFixture qdrant, EmbeddingLayout layout, string? collection = null)
        where TKey : notnull
    {
        qdrant.RequireServer();
        var store = new QdrantAdaptiveStore<TKey>(qdrant.HttpClient, Options(qdrant, layout, collection ?? qdrant.NewCollectionName("conformance")));
        await store.EnsureSchemaAsync();
        return store;
    }

    internal static QdrantStoreOptions Options(QdrantFixture qdrant, EmbeddingLayout layout, string collection)
    {
        var options = new QdrantStoreOptions
        {
            Endpoint = qdrant.Endpoint,
            ApiKey = qdrant.ApiKey,
            Layout = layout,
            Collection = collection,
            RequestTimeout = TimeSpan.FromMinutes(1),
        };
        options.PayloadIndexes.Add(new QdrantPayloadIndex("category", QdrantPayloadSchemaType.Keyword));
        return options;
    }
}
