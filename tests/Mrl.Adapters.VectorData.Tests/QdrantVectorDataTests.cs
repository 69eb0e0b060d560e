using Mrl.Adapters.Qdrant;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.VectorData.Tests;

[CollectionDefinition(Name)]
public sealed class QdrantGroup : ICollectionFixture<QdrantFixture>
{
    public const string Name = "qdrant";
}

// Needs a Qdrant server (MRL_TEST_QDRANT_URL or a Docker engine); skips with the fixture's reason otherwise.
[Collection(QdrantGroup.Name)]
public sealed class QdrantVectorDataTests(QdrantFixture qdrant) : VectorDataConformanceTests
{
    protected override IAdaptiveStoreFactory CreateFactory()
    {
        qdrant.RequireServer();
        return new QdrantAdaptiveStoreFactory(qdrant.HttpClient, (_, options) =>
        {
            options.Endpoint = qdrant.Endpoint;
            options.ApiKey = qdrant.ApiKey;
            options.RequestTimeout = TimeSpan.FromMinutes(1);
        });
    }
}
