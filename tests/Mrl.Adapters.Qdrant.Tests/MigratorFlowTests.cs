using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The migrator's request flow against an in-process fake HTTP handler with scripted answers: contract tests of what
/// it sends and in which order, not a substitute for running a migration on a server.
/// </summary>
public sealed class MigratorFlowTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();
    private readonly float[] _vectors = Samples.Vectors(3);

    public void Dispose() => _qdrant.Dispose();

    [Fact]
    public async Task Planning_only_reads()
    {
        InPlaceServer();
        var plan = await Migrator().PlanAsync(new QdrantMigrationOptions());

        Assert.Equal(QdrantMigrationPath.InPlace, plan.Path);
        Assert.All(_qdrant.Requests, r => Assert.Equal("GET", r.Method));
        Assert.Equal(["GET /", "GET /aliases", "GET /collections/docs", "GET /collections/docs-mrl"], _qdrant.Requests.Select(r => r.ToString()));
    }

    [Fact]
    public async Task In_place_migration_adds_the_vector_then_backfills_page_by_page_with_progress()
    {
        InPlaceServer();
        var progress = new List<QdrantMigrationProgress>();
        var migrator = Migrator();

        var result = await migrator.ExecuteAsync(await migrator.PlanAsync(new QdrantMigrationOptions { BatchSize = 2 }), new SyncProgress(progress));

        var writes = _qdrant.Requests.Where(r => r.Method != "GET").Select(r => r.ToString()).ToArray();
        Assert.Equal(
        [
            "PUT /collections/docs/vectors/prefix?wait=true",
            "POST /collections/docs/points/scroll",
            "PUT /collections/docs/points/vectors?wait=true",
            "POST /collections/docs/points/scroll",
        ], writes);
        using var update = JsonDocument.Parse(_qdrant.Requests.Single(r => r.Path.Contains("points/vectors", StringComparison.Ordinal)).Body!);
        var first = update.RootElement.GetProperty("points")[0];
        Assert.Equal(1, first.GetProperty("id").GetInt64());
        Assert.Equal(Samples.Layout().ToPrefix(_vectors.AsSpan(0, 32)), first.GetProperty("vector").GetProperty("prefix").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.False(first.GetProperty("vector").TryGetProperty("full", out _));

        Assert.Equal(2, progress.Count);
        Assert.Equal(new QdrantMigrationProgress("backfill", 2, 3, 0, QdrantPointId.FromNumber(3)), progress[0]);
        Assert.Equal(new QdrantMigrationProgress("backfill", 3, 3, 1, null), progress[1]);
        Assert.Equal(QdrantMigrationPath.InPlace, result.Path);
        Assert.Equal("docs", result.Collection);
        Assert.Equal(3, result.PointsProcessed);
        Assert.Equal(1, result.PointsWithoutPrefix);
        Assert.Equal([QdrantPointId.FromNumber(3)], result.SomePointsWithoutPrefix);
        AssertMatchesSpec("1.19");
    }

    [Fact]
    public async Task Backfill_resumes_from_the_checkpoint()
    {
        InPlaceServer(prefixExists: true);
        var migrator = Migrator();

        await migrator.MigrateAsync(new QdrantMigrationOptions { BatchSize = 2, ResumeFrom = QdrantPointId.FromNumber(3) });

        var scrolls = _qdrant.Requests.Where(r => r.Path.EndsWith("scroll", StringComparison.Ordinal)).ToArray();
        using var body = JsonDocument.Parse(Assert.Single(scrolls).Body!);
        Assert.Equal(3, body.RootElement.GetProperty("offset").GetInt64());
        Assert.DoesNotContain(_qdrant.Requests, r => r.Path.Contains("/vectors/prefix", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Copy_path_creates_the_collection_copies_points_with_both_vectors_and_switches_the_alias()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.17.0"))
            .On("GET", "/aliases", QdrantAnswers.Aliases(("docs", "docs-v1")))
            .On("GET", "/collections/docs", QdrantAnswers.Collection(QdrantAnswers.Vector(32, "Cosine"), points: 2,
                payloadSchema: new JsonObject { ["category"] = QdrantAnswers.PayloadIndex("keyword") }))
            .On("GET", "/collections/docs-v1-mrl", QdrantAnswers.Error("Not found"), HttpStatusCode.NotFound)
            .On("PUT", "/collections/docs-v1-mrl", QdrantAnswers.True())
            .On("PUT", "/collections/docs-v1-mrl/index", QdrantAnswers.Completed())
            .On("POST", "/collections/docs/points/scroll", QdrantAnswers.Scroll(null,
                QdrantAnswers.Record(QdrantAnswers.Id(10), new JsonObject { ["category"] = "c1" }, QdrantAnswers.Floats(_vectors.AsSpan(0, 32))),
                QdrantAnswers.Record(QdrantAnswers.Id(11), new JsonObject(), null)))
            .On("PUT", "/collections/docs-v1-mrl/points", QdrantAnswers.Completed())
            .On("POST", "/collections/aliases", QdrantAnswers.True());

        var result = await Migrator().MigrateAsync(new QdrantMigrationOptions());

        Assert.Equal(
        [
            "PUT /collections/docs-v1-mrl",
            "PUT /collections/docs-v1-mrl/index?wait=true",
            "POST /collections/docs/points/scroll",
            "PUT /collections/docs-v1-mrl/points?wait=true",
            "POST /collections/aliases",
        ], _qdrant.Requests.Where(r => r.Method != "GET").Select(r => r.ToString()));
        using var copy = JsonDocument.Parse(_qdrant.Requests.Single(r => r.Path.StartsWith("collections/docs-v1-mrl/points", StringComparison.Ordinal)).Body!);
        var points = copy.RootElement.GetProperty("points");
        Assert.Equal(8, points[0].GetProperty("vector").GetProperty("prefix").GetArrayLength());
        Assert.Equal(32, points[0].GetProperty("vector").GetProperty("full").GetArrayLength());
        Assert.Equal("c1", points[0].GetProperty("payload").GetProperty("category").GetString());
        Assert.Empty(points[1].GetProperty("vector").EnumerateObject());
        Assert.Equal("docs", result.Collection);
        Assert.Equal(1, result.PointsWithoutPrefix);
        Assert.Equal(QdrantMigrationPath.NewCollection, result.Path);
        AssertMatchesSpec("1.17");
    }

    [Fact]
    public async Task Missing_collection_is_refused_by_name()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/aliases", QdrantAnswers.Aliases())
            .On("GET", "/collections/docs", QdrantAnswers.Error("Not found"), HttpStatusCode.NotFound);

        var error = await Assert.ThrowsAsync<QdrantMigrationException>(() => Migrator().PlanAsync(new QdrantMigrationOptions()));
        Assert.Contains("'docs'", error.Message, StringComparison.Ordinal);
    }

    private void InPlaceServer(bool prefixExists = false)
    {
        var vectors = prefixExists
            ? QdrantAnswers.Named(("full", QdrantAnswers.Vector(32, "Cosine")), ("prefix", QdrantAnswers.Vector(8, "Cosine")))
            : QdrantAnswers.Named(("full", QdrantAnswers.Vector(32, "Cosine")));
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/aliases", QdrantAnswers.Aliases())
            .On("GET", "/collections/docs", QdrantAnswers.Collection(vectors, points: 3))
            .On("GET", "/collections/docs-mrl", QdrantAnswers.Error("Not found"), HttpStatusCode.NotFound)
            .On("PUT", "/collections/docs/vectors/prefix", QdrantAnswers.Completed())
            .On("PUT", "/collections/docs/points/vectors", QdrantAnswers.Completed())
            .On("POST", "/collections/docs/points/scroll", request =>
            {
                var offset = JsonDocument.Parse(request.Body!).RootElement.TryGetProperty("offset", out var o) ? o.GetInt64() : 0;
                return (HttpStatusCode.OK, offset < 3
                    ? QdrantAnswers.Scroll(QdrantAnswers.Id(3),
                        QdrantAnswers.Record(QdrantAnswers.Id(1), null, new JsonObject { ["full"] = QdrantAnswers.Floats(_vectors.AsSpan(0, 32)) }),
                        QdrantAnswers.Record(QdrantAnswers.Id(2), null, new JsonObject { ["full"] = QdrantAnswers.Floats(_vectors.AsSpan(32, 32)) }))
                    : QdrantAnswers.Scroll(null, QdrantAnswers.Record(QdrantAnswers.Id(3), null, new JsonObject { ["full"] = QdrantAnswers.Floats(new float[32]) })));
            });
    }

    private QdrantMigrator Migrator() => new(_qdrant.Client(), Samples.Options());

    private void AssertMatchesSpec(string version)
    {
        foreach (var request in _qdrant.Requests)
        {
            var problems = QdrantSpecs.TryGet(version)?.ValidateRequest(request.Method, request.Path, request.Body) ?? [];
            Assert.True(problems.Count == 0, $"{request}: {string.Join("\n", problems)}");
        }
    }

    private sealed class SyncProgress(List<QdrantMigrationProgress> reports) : IProgress<QdrantMigrationProgress>
    {
        public void Report(QdrantMigrationProgress value) => reports.Add(value);
    }
}
