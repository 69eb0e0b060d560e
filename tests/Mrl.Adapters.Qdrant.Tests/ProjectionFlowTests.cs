using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// A projected layout through the store to the fake gRPC server: the store computes every key in process, so the
/// <c>prefix</c> named vector it sends is <c>P·x</c> (renormalized for Cosine) and pass 1 searches it with <c>P·q</c>;
/// the <c>full</c> vector and pass 2 are those of a truncating layout. Where the projection is stored:
/// <see cref="ProjectionStorageFlowTests"/>.
/// </summary>
public sealed class ProjectionFlowTests : IDisposable
{
    private const int Dimensions = 32, Prefix = 8;

    private static readonly PrefixProjection Projection =
        ProjectionFitter.Fit(Samples.Vectors(400, Dimensions, seed: 11), Dimensions, Prefix, DistanceMetric.Cosine);

    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;

    public ProjectionFlowTests() => _client = _qdrant.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task Upsert_sends_the_projected_key_as_the_prefix_vector_and_the_full_vector_untouched()
    {
        _qdrant.On("qdrant.Points/Upsert", _ => FakeQdrantCollection.Completed());
        var records = Samples.Records(i => (long)i, 3);

        await Store().UpsertAsync(records);

        var points = Assert.Single(_qdrant.Calls).As<Proto.UpsertPoints>().Points;
        for (var i = 0; i < records.Count; i++)
        {
            var vectors = points[i].Vectors.Vectors_.Vectors;
            AssertClose(Projected(records[i].Vector.Span), vectors["prefix"].Dense.Data);
            Assert.NotEqual(Truncated(records[i].Vector.Span), vectors["prefix"].Dense.Data);
            Assert.Equal(records[i].Vector.ToArray(), vectors["full"].Dense.Data);
        }
    }

    [Fact]
    public async Task Two_pass_search_queries_the_prefix_with_the_projected_query_and_reranks_on_the_full_vectors()
    {
        var data = Samples.Vectors(3);
        var query = data.AsMemory(64, Dimensions);
        _qdrant.On("qdrant.Points/Query", _ => StoreFlowTests.Answer(
            StoreFlowTests.Scored(0, 0.99f, data.AsSpan(0, 32).ToArray()), StoreFlowTests.Scored(1, 0.98f, data.AsSpan(32, 32).ToArray()),
            StoreFlowTests.Scored(2, 0.5f, data.AsSpan(64, 32).ToArray())));

        var result = await Store().SearchAsync(query, new SearchOptions { K = 1, Oversampling = 3 });

        var call = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        Assert.Equal("prefix", call.Using);
        AssertClose(Projected(query.Span), call.Query.Nearest.Dense.Data);
        Assert.Equal(["full"], call.WithVectors.Include.Names);
        Assert.Equal(2L, Assert.Single(result.Hits).Key);
        Assert.Equal(1f, result.Hits[0].Score, 4);
    }

    [Fact]
    public async Task In_database_rerank_prefetches_with_the_projected_query_and_rescores_with_the_full_one()
    {
        _qdrant.On("qdrant.Points/Query", _ => StoreFlowTests.Answer(StoreFlowTests.Scored(4, 0.8f, null)));
        var query = Samples.Vectors(1);

        await Store().SearchAsync(query, new SearchOptions { K = 3, Oversampling = 4, Strategy = SearchStrategy.TwoPassInDatabase });

        var call = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        var prefetch = Assert.Single(call.Prefetch);
        Assert.Equal("prefix", prefetch.Using);
        AssertClose(Projected(query), prefetch.Query.Nearest.Dense.Data);
        Assert.Equal("full", call.Using);
        Assert.Equal(query, call.Query.Nearest.Dense.Data);
    }

    [Fact]
    public async Task The_collection_gets_a_prefix_vector_of_the_projections_length()
    {
        _ = new FakeQdrantCollection(_qdrant);
        _ = new FakeQdrantCollection(_qdrant, "docs_mrl_projection");

        await Store().EnsureSchemaAsync();

        var create = _qdrant.Calls.Where(c => c.Method == "qdrant.Collections/Create").Select(c => c.As<Proto.CreateCollection>()).Single(c => c.CollectionName == "docs");
        Assert.Equal((ulong)Prefix, create.VectorsConfig.ParamsMap.Map["prefix"].Size);
        Assert.Equal((ulong)Dimensions, create.VectorsConfig.ParamsMap.Map["full"].Size);
    }

    private QdrantAdaptiveStore<long> Store() => new(_client, Samples.Options(new EmbeddingLayout(Projection, DistanceMetric.Cosine)));

    /// <summary><c>P·x</c> with unit length, computed here rather than by the layout, as the server should receive it.</summary>
    private static float[] Projected(ReadOnlySpan<float> x)
    {
        var key = new double[Prefix];
        for (var r = 0; r < Prefix; r++)
        {
            var row = Projection.Row(r);
            for (var c = 0; c < Dimensions; c++)
            {
                key[r] += row[c] * (double)x[c];
            }
        }

        var norm = Math.Sqrt(key.Sum(v => v * v));
        return key.Select(v => (float)(v / norm)).ToArray();
    }

    private static float[] Truncated(ReadOnlySpan<float> x) => new EmbeddingLayout(Dimensions, Prefix).ToPrefix(x);

    private static void AssertClose(float[] expected, Google.Protobuf.Collections.RepeatedField<float> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 1e-5f);
        }
    }
}
