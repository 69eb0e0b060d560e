using System.Globalization;
using System.Text;
using System.Text.Json;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Qdrant.Tests.Support;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Qdrant.Tests.Server;

/// <summary>Both migration paths on a Qdrant server; skipped with the fixture's reason when there is none.</summary>
[Collection(QdrantServer.Name)]
public sealed class QdrantMigrationServerTests(QdrantFixture qdrant)
{
    private const int Count = 300;
    private static readonly EmbeddingLayout Layout = new(32, 8);

    [SkippableFact]
    public async Task In_place_migration_adds_a_searchable_prefix_to_a_collection_with_a_named_full_vector()
    {
        qdrant.RequireServer();
        var version = await ServerVersionAsync();
        Skip.If(version < new Version(1, 18, 0), $"Qdrant {version} has no qdrant.Points/CreateVectorName: in-place migration needs 1.18.");
        var collection = qdrant.NewCollectionName("inplace");
        await qdrant.SendJsonAsync(HttpMethod.Put, $"collections/{collection}", """{"vectors":{"full":{"size":32,"distance":"Cosine"}}}""");
        var data = Samples.Vectors(Count);
        await UpsertAsync(collection, data, named: true);
        var options = QdrantServer.Options(qdrant, Layout, collection);
        var reports = new List<QdrantMigrationProgress>();

        var migrator = new QdrantMigrator(QdrantServer.Client(qdrant), options);
        var plan = await migrator.PlanAsync(new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace, BatchSize = 64 });
        var result = await migrator.ExecuteAsync(plan, new Reports(reports));

        Assert.Equal(Count, result.PointsProcessed);
        Assert.Equal(0, result.PointsWithoutPrefix);
        Assert.Null(reports[^1].Checkpoint);
        Assert.Equal(5, reports.Count);
        await AssertSearchableAsync(options, data);
    }

    [SkippableFact]
    public async Task Migration_through_a_new_collection_switches_the_alias_readers_use()
    {
        qdrant.RequireServer();
        var old = qdrant.NewCollectionName("unnamed");
        var alias = qdrant.NewCollectionName("live");
        var target = qdrant.NewCollectionName("migrated");
        await qdrant.SendJsonAsync(HttpMethod.Put, $"collections/{old}", """{"vectors":{"size":32,"distance":"Cosine"}}""");
        await qdrant.SendJsonAsync(HttpMethod.Post, "collections/aliases",
            $$$"""{"actions":[{"create_alias":{"collection_name":"{{{old}}}","alias_name":"{{{alias}}}"}}]}""");
        var data = Samples.Vectors(Count);
        await UpsertAsync(old, data, named: false);
        var options = QdrantServer.Options(qdrant, Layout, alias);

        var result = await new QdrantMigrator(QdrantServer.Client(qdrant), options)
            .MigrateAsync(new QdrantMigrationOptions { Path = QdrantMigrationPath.NewCollection, TargetCollection = target, BatchSize = 100 });

        Assert.Equal(alias, result.Collection);
        Assert.Equal(Count, result.PointsProcessed);
        var aliases = await qdrant.SendJsonAsync(HttpMethod.Get, "aliases", null);
        Assert.Contains($"\"alias_name\":\"{alias}\",\"collection_name\":\"{target}\"", aliases.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        await AssertSearchableAsync(options, data);
        using var oldCount = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Post, $"collections/{old}/points/count", """{"exact":true}"""));
        Assert.Equal(Count, oldCount.RootElement.GetProperty("result").GetProperty("count").GetInt32());
    }

    private async Task AssertSearchableAsync(QdrantStoreOptions options, float[] data)
    {
        var store = new QdrantAdaptiveStore<long>(QdrantServer.Client(qdrant), options);
        await store.EnsureSchemaAsync();
        Assert.Equal(Count, await store.CountAsync());
        Assert.Equal(Count / 2, await store.CountAsync(Filter.Eq("even", true)));
        for (var q = 0; q < 5; q++)
        {
            var query = data.AsMemory(q * 61 * 32, 32);
            var exact = ExactKnn.Search(data, Count, 32, query, 10, DistanceMetric.Cosine);
            var result = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 30 });
            Assert.Equal(exact.Select(e => (long)e.Index), result.Hits.Select(h => h.Key));
        }
    }

    private async Task UpsertAsync(string collection, float[] data, bool named)
    {
        var body = new StringBuilder("{\"points\":[");
        for (var i = 0; i < Count; i++)
        {
            var vector = "[" + string.Join(",", data.AsSpan(i * 32, 32).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
            body.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}{{\"id\":{i},\"vector\":{(named ? $"{{\"full\":{vector}}}" : vector)},\"payload\":{{\"even\":{(i % 2 == 0 ? "true" : "false")}}}}}");
        }

        body.Append("]}");
        await qdrant.SendJsonAsync(HttpMethod.Put, $"collections/{collection}/points?wait=true", body.ToString());
    }

    private async Task<Version> ServerVersionAsync()
    {
        using var document = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Get, "", null));
        return QdrantServerVersion.Parse(document.RootElement.GetProperty("version").GetString()!);
    }

    private sealed class Reports(List<QdrantMigrationProgress> reports) : IProgress<QdrantMigrationProgress>
    {
        public void Report(QdrantMigrationProgress value) => reports.Add(value);
    }
}
