using Grpc.Core;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class StoreFactoryTests : IDisposable
{
    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;
    private readonly QdrantAdaptiveStoreFactory _factory;

    public StoreFactoryTests()
    {
        _client = _qdrant.CreateClient();
        _factory = new QdrantAdaptiveStoreFactory(_client, (_, o) => o.ApiKey = Samples.ApiKey);
    }

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task Lists_checks_and_deletes_collections()
    {
        _qdrant.On("qdrant.Collections/List", _ => new Proto.ListCollectionsResponse
            {
                Collections = { new Proto.CollectionDescription { Name = "a" }, new Proto.CollectionDescription { Name = "b" } },
            })
            .On<Proto.CollectionExistsRequest>("qdrant.Collections/CollectionExists", r =>
                new Proto.CollectionExistsResponse { Result = new Proto.CollectionExists { Exists = r.CollectionName == "a" } })
            .On<Proto.DeleteCollection>("qdrant.Collections/Delete", r => r.CollectionName == "a"
                ? new Proto.CollectionOperationResponse { Result = true }
                : throw new RpcException(new Status(StatusCode.NotFound, "Collection `gone` doesn't exist!")));

        Assert.Equal(["a", "b"], await _factory.ListCollectionNamesAsync().ToListAsync());
        Assert.True(await _factory.CollectionExistsAsync("a"));
        Assert.False(await _factory.CollectionExistsAsync("c"));
        await _factory.DeleteCollectionAsync("a");
        await _factory.DeleteCollectionAsync("gone");

        Assert.All(_qdrant.Calls, c => Assert.Equal(Samples.ApiKey, c.ApiKey));
        Assert.Equal("qdrant", _factory.SystemName);
        ProtoSurface.Of("1.17.0").AssertSupports(_qdrant.Calls);
    }

    [Fact]
    public async Task Names_qdrant_refuses_are_refused_before_any_call()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _factory.CollectionExistsAsync("a/b"));
        await Assert.ThrowsAsync<ArgumentException>(() => _factory.DeleteCollectionAsync(".."));

        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task A_store_addresses_the_collection_of_its_name_with_the_given_layout()
    {
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 4 } });

        var store = _factory.GetStore<Guid>("hotels", Samples.Layout());

        Assert.Equal(Samples.Layout(), store.Layout);
        Assert.Equal(4, await store.CountAsync());
        Assert.Equal("hotels", Assert.Single(_qdrant.Calls).As<Proto.CountPoints>().CollectionName);
    }
}
