using System.Globalization;
using System.Text;
using System.Text.Json;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Testing;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Qdrant.Tests.Server;

/// <summary>
/// A projection stored with its collection on a Qdrant server (1.16+ for collection metadata): what the fake server
/// cannot show, that the server keeps the marker and the directions as written and switches the marker atomically for
/// readers. Skipped with the fixture's reason when there is no server.
/// </summary>
[Collection(QdrantServer.Name)]
public sealed class QdrantProjectionServerTests(QdrantFixture qdrant)
{
    private const int Dimensions = 96, KeyDimensions = 24, Count = 2_000;

    // A collection as another tool makes it: one named vector of Dimensions values.
    private const string FullVectorOnly = """{"vectors":{"full":{"size":96,"distance":"Cosine"}}}""";

    [SkippableFact]
    public async Task A_new_collection_keeps_its_projection_and_any_client_reads_the_layout_back()
    {
        await RequireAsync(new Version(1, 16, 0), "collection metadata");
        var collection = qdrant.NewCollectionName("projected");
        try
        {
            var projection = ProjectionFitter.Fit(Corpus(500), Dimensions, KeyDimensions, DistanceMetric.Cosine);
            var layout = new EmbeddingLayout(projection, DistanceMetric.Cosine);
            await QdrantServer.CreateStoreAsync<long>(qdrant, layout, collection);

            var read = await QdrantMigrator.ReadLayoutAsync(QdrantServer.Client(qdrant), Options(collection));
            var refit = ProjectionFitter.Fit(Corpus(500, seed: 5), Dimensions, KeyDimensions, DistanceMetric.Cosine, version: 2);
            var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => QdrantServer.CreateStoreAsync<long>(qdrant, new EmbeddingLayout(refit, DistanceMetric.Cosine), collection));

            Assert.Equal(layout, read);
            Assert.Contains("computed with projection version 1", error.Message, StringComparison.Ordinal);
            using var info = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Get, $"collections/{collection}", null));
            var marker = info.RootElement.GetProperty("result").GetProperty("config").GetProperty("metadata").GetProperty("mrl_projection:prefix");
            Assert.Equal(QdrantProjectionCodec.Checksum(projection), marker.GetProperty("sha256").GetString());
        }
        finally
        {
            await DeleteAsync(QdrantProjectionCodec.CollectionFor(collection));
        }
    }

    [SkippableFact]
    public async Task In_place_migration_with_a_fitted_projection_finds_the_exact_top_10_of_rotated_vectors()
    {
        await RequireAsync(new Version(1, 18, 0), "qdrant.Points/CreateVectorName");
        var collection = qdrant.NewCollectionName("rotated");
        try
        {
            var data = Corpus(Count);
            await qdrant.SendJsonAsync(HttpMethod.Put, $"collections/{collection}", FullVectorOnly);
            await UpsertAsync(collection, data);
            var client = QdrantServer.Client(qdrant);

            var projection = await QdrantMigrator.FitProjectionAsync(client, Options(collection), KeyDimensions, DistanceMetric.Cosine, sampleSize: 1_500);
            var layout = new EmbeddingLayout(projection, DistanceMetric.Cosine);
            var result = await new QdrantMigrator(client, QdrantServer.Options(qdrant, layout, collection)).MigrateAsync(new QdrantMigrationOptions { BatchSize = 500 });
            var read = await QdrantMigrator.ReadLayoutAsync(client, Options(collection));
            var store = new QdrantAdaptiveStore<long>(client, QdrantServer.Options(qdrant, read, collection));
            await store.EnsureSchemaAsync();

            Assert.Equal((Count, 0L), (result.PointsProcessed, result.PointsWithoutPrefix));
            Assert.Equal(layout, read);
            for (var q = 0; q < 20; q++)
            {
                var query = data.AsMemory(q * 97 * Dimensions, Dimensions);
                var exact = ExactKnn.Search(data, Count, Dimensions, query, 10, DistanceMetric.Cosine);
                var hits = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 8, EfSearch = 200 });
                Assert.Equal(exact.Select(e => (long)e.Index).Order(), hits.Hits.Select(h => h.Key).Order());
            }
        }
        finally
        {
            await DeleteAsync(QdrantProjectionCodec.CollectionFor(collection));
        }
    }

    [SkippableFact]
    public async Task Readers_during_a_switch_get_the_old_version_or_the_new_one_whole()
    {
        await RequireAsync(new Version(1, 16, 0), "collection metadata");
        var collection = qdrant.NewCollectionName("switch");
        try
        {
            var first = ProjectionFitter.Fit(Corpus(500), Dimensions, KeyDimensions, DistanceMetric.Cosine);
            var second = ProjectionFitter.Fit(Corpus(500, seed: 5), Dimensions, KeyDimensions, DistanceMetric.Cosine, version: 2);
            await QdrantServer.CreateStoreAsync<long>(qdrant, new EmbeddingLayout(first, DistanceMetric.Cosine), collection);
            var client = QdrantServer.Client(qdrant);
            var options = QdrantServer.Options(qdrant, new EmbeddingLayout(first, DistanceMetric.Cosine), collection);
            var calls = new QdrantCalls(collection, TimeSpan.FromMinutes(1), 3, qdrant.ApiKey, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            var side = QdrantProjectionCodec.CollectionFor(collection);

            using var stop = new CancellationTokenSource();
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                var seen = new List<PrefixProjection>();
                while (!stop.IsCancellationRequested)
                {
                    seen.Add((await QdrantMigrator.ReadProjectionAsync(client, options))!);
                }

                return seen;
            })).ToArray();
            await QdrantProjections.StoreAsync(client, calls, second, side, options, CancellationToken.None);
            await QdrantProjections.SwitchAsync(client, calls, collection, "prefix", QdrantProjectionCodec.Describe(second, side), CancellationToken.None);
            await Task.Delay(500);
            await stop.CancelAsync();
            var seen = (await Task.WhenAll(readers)).SelectMany(s => s).ToArray();

            Assert.All(seen, p => Assert.True(p.Equals(first) || p.Equals(second), $"read {p}, neither version whole"));
            Assert.Equal(second, seen[^1]);
        }
        finally
        {
            await DeleteAsync(QdrantProjectionCodec.CollectionFor(collection));
        }
    }

    private static float[] Corpus(int count, int seed = 11) =>
        new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = seed }).Generate(count);

    private QdrantStoreOptions Options(string collection) => new() { ApiKey = qdrant.ApiKey, Collection = collection, RequestTimeout = TimeSpan.FromMinutes(1) };

    private async Task RequireAsync(Version minimum, string feature)
    {
        qdrant.RequireServer();
        using var document = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Get, "", null));
        var version = QdrantServerVersion.Parse(document.RootElement.GetProperty("version").GetString()!);
        Skip.If(version < minimum, $"Qdrant {version} has no {feature}: this test needs {minimum}.");
    }

    private async Task UpsertAsync(string collection, float[] data)
    {
        for (var first = 0; first < Count; first += 500)
        {
            var body = new StringBuilder("{\"points\":[");
            for (var i = first; i < first + 500; i++)
            {
                var vector = string.Join(",", data.AsSpan(i * Dimensions, Dimensions).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
                body.Append(CultureInfo.InvariantCulture, $"{(i > first ? "," : "")}{{\"id\":{i},\"vector\":{{\"full\":[{vector}]}}}}");
            }

            body.Append("]}");
            await qdrant.SendJsonAsync(HttpMethod.Put, $"collections/{collection}/points?wait=true", body.ToString());
        }
    }

    // The side collection's name is derived, not handed out by the fixture, so the fixture does not delete it.
    private Task DeleteAsync(string collection) =>
        qdrant.Endpoint is null ? Task.CompletedTask : qdrant.SendJsonAsync(HttpMethod.Delete, "collections/" + Uri.EscapeDataString(collection), null);
}
