using Mrl.Adapters.Testing;
using Qdrant.Client;

namespace Mrl.Adapters.Qdrant.Tests.Server;

/// <summary>The tests that need a Qdrant server share one <see cref="QdrantFixture"/> and one client of it.</summary>
[CollectionDefinition(Name)]
public sealed class QdrantServer : ICollectionFixture<QdrantFixture>
{
    public const string Name = "Qdrant server";

    private static readonly Lock ClientLock = new();
    private static QdrantClient? _client;

    /// <summary>A client of the fixture's server (gRPC); skips when there is no server.</summary>
    internal static QdrantClient Client(QdrantFixture qdrant)
    {
        qdrant.RequireServer();
        lock (ClientLock)
        {
            return _client ??= new QdrantClient(qdrant.GrpcEndpoint!, qdrant.ApiKey);
        }
    }

    /// <summary>A store on a fresh collection of the fixture's server, its schema ensured; skips when there is no server.</summary>
    internal static async Task<QdrantAdaptiveStore<TKey>> CreateStoreAsync<TKey>(QdrantFixture qdrant, EmbeddingLayout layout, string? collection = null)
        where TKey : notnull
    {
        var store = new QdrantAdaptiveStore<TKey>(Client(qdrant), Options(qdrant, layout, collection ?? qdrant.NewCollectionName("conformance")));
        await store.EnsureSchemaAsync();
        return store;
    }

    internal static QdrantStoreOptions Options(QdrantFixture qdrant, EmbeddingLayout layout, string collection)
    {
        var options = new QdrantStoreOptions
        {
            ApiKey = qdrant.ApiKey,
            Layout = layout,
            Collection = collection,
            RequestTimeout = TimeSpan.FromMinutes(1),
        };
        options.PayloadIndexes.Add(new QdrantPayloadIndex("category", QdrantPayloadSchemaType.Keyword));
        return options;
    }
}
