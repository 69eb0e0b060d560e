using System.Net;
using System.Text.Json.Nodes;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class StoreFactoryTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();
    private readonly HttpClient _http;
    private readonly QdrantAdaptiveStoreFactory _factory;

    public StoreFactoryTests()
    {
        _http = new HttpClient(_qdrant);
        _factory = new QdrantAdaptiveStoreFactory(_http, (_, o) =>
        {
            o.Endpoint = new Uri("http://qdrant.test:6333");
            o.ApiKey = Samples.ApiKey;
        });
    }

    public void Dispose()
    {
        _http.Dispose();
        _qdrant.Dispose();
    }

    public static TheoryData<string> Versions => new("1.17", "1.18", "1.19");

    [SkippableTheory]
    [MemberData(nameof(Versions))]
    public void Collection_management_requests_match_the_spec(string version)
    {
        RequestContractTests.AssertValid(version, QdrantRequests.ListCollections());
        RequestContractTests.AssertValid(version, QdrantRequests.CollectionExists("docs"));
        RequestContractTests.AssertValid(version, QdrantRequests.DeleteCollection("docs"));
    }

    [Fact]
    public async Task Lists_checks_and_deletes_collections_with_the_api_key()
    {
        _qdrant.On("GET", "/collections", QdrantAnswers.Ok(new JsonObject { ["collections"] = new JsonArray(new JsonObject { ["name"] = "a" }, new JsonObject { ["name"] = "b" }) }))
            .On("GET", "/collections/a/exists", QdrantAnswers.Ok(new JsonObject { ["exists"] = true }))
            .On("GET", "/collections/c/exists", QdrantAnswers.Ok(new JsonObject { ["exists"] = false }))
            .On("DELETE", "/collections/a", QdrantAnswers.True())
            .On("DELETE", "/collections/gone", QdrantAnswers.Error("Collection `gone` doesn't exist!"), HttpStatusCode.NotFound);

        Assert.Equal(["a", "b"], await _factory.ListCollectionNamesAsync().ToListAsync());
        Assert.True(await _factory.CollectionExistsAsync("a"));
        Assert.False(await _factory.CollectionExistsAsync("c"));
        await _factory.DeleteCollectionAsync("a");
        await _factory.DeleteCollectionAsync("gone");

        Assert.All(_qdrant.Requests, r => Assert.Equal(Samples.ApiKey, r.ApiKey));
        Assert.Equal("qdrant", _factory.SystemName);
    }

    [Fact]
    public async Task A_store_addresses_the_collection_of_its_name_with_the_given_layout()
    {
        _qdrant.On("POST", "/collections/hotels/points/count", QdrantAnswers.Count(4));

        var store = _factory.GetStore<Guid>("hotels", Samples.Layout());

        Assert.Equal(Samples.Layout(), store.Layout);
        Assert.Equal(4, await store.CountAsync());
        Assert.Equal("/collections/hotels/points/count", Assert.Single(_qdrant.Requests).PathAndQuery.Split('?')[0]);
    }
}
