using System.Globalization;
using System.Text;
using System.Text.Json;
using Mrl.Adapters;
using Mrl.Adapters.Qdrant;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Testing;
using Mrl.Adapters.Qdrant.Tests.Support;
using Mrl.Bench.Synthetic;
using Mrl.Cli.Commands;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Cli.Tests;

/// <summary>
/// <c>mrl migrate qdrant --projection</c> on a collection another tool made, holding embeddings of a model without a
/// Matryoshka loss: against the fake gRPC server of the Qdrant tests (always), and against a Qdrant server (skipped when
/// there is none).
/// </summary>
public sealed class MigrateQdrantCommandTests(QdrantFixture qdrant) : IClassFixture<QdrantFixture>
{
    private const int Dimensions = 96, KeyDimensions = 24, Count = 2_000;

    // A collection as another tool makes it: one named vector of Dimensions values.
    private const string FullVectorOnly = """{"vectors":{"full":{"size":96,"distance":"Cosine"}}}""";

    [Fact]
    public async Task Migrate_with_a_projection_against_the_fake_server_fits_stores_names_and_backfills_and_its_dry_run_only_reads()
    {
        using var fake = new FakeQdrantServer();
        var vectors = new Proto.VectorParamsMap();
        vectors.Map["full"] = new Proto.VectorParams { Size = Dimensions, Distance = Proto.Distance.Cosine };
        var docs = new FakeQdrantCollection(fake, vectors: new Proto.VectorsConfig { ParamsMap = vectors });
        var side = new FakeQdrantCollection(fake, "docs_mrl_projection");
        fake.On("qdrant.Collections/ListAliases", _ => new Proto.ListAliasesResponse());
        const int Points = 600;
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 11 }).Generate(Points);
        for (var i = 0; i < Points; i++)
        {
            var point = new Proto.PointStruct { Id = new Proto.PointId { Num = (ulong)i }, Vectors = new Proto.Vectors { Vectors_ = new Proto.NamedVectors() } };
            point.Vectors.Vectors_.Vectors["full"] = new Proto.Vector { Dense = new Proto.DenseVector { Data = { data.AsSpan(i * Dimensions, Dimensions).ToArray() } } };
            docs.Put(point);
        }

        // The command as mrl runs it, with its client's channel sending to the fake instead of a socket.
        var command = MigrateQdrantCommand.Create((_, apiKey) => fake.CreateClient(apiKey));
        string[] arguments = ["--url", "http://qdrant.test:6334", "--collection", "docs", "--dims", "96", "--prefix", "24", "--projection", "--sample", "500", "--api-key", "sk-cli"];

        Assert.Equal(0, await command.Parse([.. arguments, "--dry-run"]).InvokeAsync());
        var dryRun = fake.Calls;
        fake.Clear();
        Assert.Equal(0, await command.Parse(arguments).InvokeAsync());
        var run = fake.MethodNames.ToList();
        fake.Clear();
        Assert.Equal(0, await command.Parse(arguments).InvokeAsync());
        var again = fake.Calls;

        // The dry run fits (reading ids, then the sample's full vectors) and plans; it writes nothing.
        Assert.Equal(["qdrant.Collections/Get", "qdrant.Collections/ListAliases", "qdrant.Points/Get", "qdrant.Points/Scroll", "qdrant.Qdrant/HealthCheck"],
            dryRun.Select(c => c.Method).Distinct().Order());
        Assert.All(dryRun, c => Assert.Equal("sk-cli", c.ApiKey));
        Assert.Equal(500, dryRun.Where(c => c.Method == "qdrant.Points/Get").Sum(c => c.As<Proto.GetPoints>().Ids.Count));

        Assert.True(run.IndexOf("qdrant.Points/Upsert") < run.IndexOf("qdrant.Collections/Update"), string.Join(", ", run));
        Assert.True(run.IndexOf("qdrant.Collections/Update") < run.IndexOf("qdrant.Points/CreateVectorName"), string.Join(", ", run));
        Assert.Equal(24, side.PointCount);
        var marker = docs.Metadata["mrl_projection:prefix"].StructValue.Fields;
        Assert.Equal((1L, 24L, 96L, "docs_mrl_projection"), (marker["version"].IntegerValue, marker["rows"].IntegerValue, marker["columns"].IntegerValue, marker["collection"].StringValue));

        // A rerun reads the stored projection instead of fitting, stores nothing and backfills again.
        Assert.DoesNotContain(again, c => c.Method == "qdrant.Points/Get" || c.Request is Proto.ScrollPoints { Limit: 10_000 });
        Assert.DoesNotContain(again, c => c.Method is "qdrant.Collections/Update" or "qdrant.Points/CreateVectorName" or "qdrant.Points/Upsert");
        Assert.Contains(again, c => c.Method == "qdrant.Points/UpdateVectors");

        // Every point's key is P·x with the stored projection: what a store opened with the layout read back searches with.
        using var client = fake.CreateClient(apiKey: null);
        var layout = await QdrantMigrator.ReadLayoutAsync(client, new QdrantStoreOptions { Collection = "docs" });
        Assert.Equal(PrefixKind.Projection, layout.PrefixKind);
        Assert.Equal((1, 24, 96), (layout.Projection!.Version, layout.PrefixDimensions, layout.FullDimensions));
        Assert.All(docs.Points, p => Assert.Equal(layout.ToPrefix(p.Vectors.Vectors_.Vectors["full"].Dense.Data.ToArray()), p.Vectors.Vectors_.Vectors["prefix"].Dense.Data));
    }

    [SkippableFact]
    public async Task Migrate_with_a_projection_fits_stores_and_backfills_its_keys_the_dry_run_writes_nothing_and_a_rerun_reuses_it()
    {
        qdrant.RequireServer();
        using var health = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Get, "", null));
        var version = Version.Parse(health.RootElement.GetProperty("version").GetString()!.Split('-')[0]);
        Skip.If(version < new Version(1, 18), $"Qdrant {version} cannot add a named vector in place (1.18+).");
        var collection = qdrant.NewCollectionName("cliproj");
        var side = collection + "_mrl_projection";
        try
        {
            var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Rotated = true, Seed = 11 }).Generate(Count);
            await qdrant.SendJsonAsync(HttpMethod.Put, $"collections/{collection}", FullVectorOnly);
            await UpsertAsync(collection, data);
            string[] common =
            [
                "migrate", "qdrant", "--url", qdrant.GrpcEndpoint!.ToString(), "--collection", collection, "--dims", Dimensions.ToString(CultureInfo.InvariantCulture),
                "--prefix", KeyDimensions.ToString(CultureInfo.InvariantCulture), "--projection", "--sample", "1500", .. qdrant.ApiKey is { } key ? new[] { "--api-key", key } : [],
            ];

            var dryRun = await CliRunner.RunAsync([.. common, "--dry-run"]);
            Assert.True(dryRun.ExitCode == 0, dryRun.Output);
            Assert.Contains("Fitted projection v1 24×96 (uncentred, Cosine)", dryRun.Output, StringComparison.Ordinal);
            Assert.Contains("qdrant.Collections/Update", dryRun.Output, StringComparison.Ordinal);
            Assert.Contains(side, dryRun.Output, StringComparison.Ordinal);
            Assert.False(await ExistsAsync(side));
            using (var before = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Get, $"collections/{collection}", null)))
            {
                Assert.False(before.RootElement.GetProperty("result").GetProperty("config").GetProperty("params").GetProperty("vectors").TryGetProperty("prefix", out _));
            }

            var run = await CliRunner.RunAsync(common);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Contains("Migrated 2000 points by InPlace with keys projected by projection v1 24×96", run.Output, StringComparison.Ordinal);

            var again = await CliRunner.RunAsync(common);
            Assert.True(again.ExitCode == 0, again.Output);
            Assert.Contains("has projection v1 24×96 already: going on with it, no new fit", again.Output, StringComparison.Ordinal);

            // The application passes no matrix: the layout, projection included, comes from the collection.
            using var client = new QdrantClient(qdrant.GrpcEndpoint!, qdrant.ApiKey);
            var options = new QdrantStoreOptions { ApiKey = qdrant.ApiKey, Collection = collection };
            options.Layout = await QdrantMigrator.ReadLayoutAsync(client, options);
            Assert.Equal(PrefixKind.Projection, options.Layout.PrefixKind);
            var store = new QdrantAdaptiveStore<long>(client, options);
            await store.EnsureSchemaAsync();
            for (var q = 0; q < 20; q++)
            {
                var query = data.AsMemory(q * 97 * Dimensions, Dimensions);
                var exact = ExactKnn.Search(data, Count, Dimensions, query, 10, DistanceMetric.Cosine);
                var hits = await store.SearchAsync(query, new SearchOptions { K = 10, Oversampling = 8 });
                Assert.Equal(exact.Select(e => (long)e.Index).Order(), hits.Hits.Select(h => h.Key).Order());
            }
        }
        finally
        {
            await qdrant.SendJsonAsync(HttpMethod.Delete, "collections/" + side, null);
        }
    }

    private async Task<bool> ExistsAsync(string collection)
    {
        using var document = JsonDocument.Parse(await qdrant.SendJsonAsync(HttpMethod.Get, $"collections/{collection}/exists", null));
        return document.RootElement.GetProperty("result").GetProperty("exists").GetBoolean();
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
}
