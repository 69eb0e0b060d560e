using Mrl.Adapters.Qdrant;
using Mrl.Adapters.Testing;
using Qdrant.Client;

namespace Mrl.Adapters.VectorData.Tests;

[CollectionDefinition(Name)]
public sealed class QdrantGroup : ICollectionFixture<QdrantFixture>
{
    public const string Name = "qdrant";
}

// Needs a Qdrant server (MRL_TEST_QDRANT_URL or a Docker engine); skips with the fixture's reason otherwise.
[Collection(QdrantGroup.Name)]
public sealed class QdrantVectorDataTests(QdrantFixture qdrant) : VectorDataConformanceTests, IDisposable
{
    private QdrantClient? _client;

    protected override IAdaptiveStoreFactory CreateFactory()
    {
        qdrant.RequireServer();
        _client ??= new QdrantClient(qdrant.GrpcEndpoint!, qdrant.ApiKey);
        return new QdrantAdaptiveStoreFactory(_client, (_, options) =>
        {
            options.ApiKey = qdrant.ApiKey;
            options.RequestTimeout = TimeSpan.FromMinutes(1);
        });
    }

    public void Dispose() => _client?.Dispose();
}
