using System.Net;
using System.Text.Json.Nodes;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// <see cref="QdrantMaintenance"/>'s requests and how it reads the answers, against the in-process fake handler (not a
/// server). Every request it sends is checked against the 1.19 spec.
/// </summary>
public sealed class MaintenanceFlowTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();

    public void Dispose() => _qdrant.Dispose();

    private QdrantMaintenance Maintenance() => new(_qdrant.Client(), Samples.Options());

    private static string Status(string status, JsonNode? optimizer = null, long indexed = 1000) =>
        QdrantAnswers.Ok(new JsonObject
        {
            ["status"] = status,
            ["optimizer_status"] = optimizer ?? "ok",
            ["indexed_vectors_count"] = indexed,
            ["points_count"] = 1000,
            ["segments_count"] = 3,
            ["config"] = new JsonObject(),
            ["payload_schema"] = new JsonObject(),
        });

    [Fact]
    public async Task Status_is_read_from_the_collection_info()
    {
        _qdrant.On("GET", "/collections/docs", Status("yellow", indexed: 400));

        var status = await Maintenance().ReadStatusAsync();

        Assert.Equal(new QdrantCollectionStatus("yellow", null, 1000, 400, 3), status);
        Assert.False(status!.IsGreen);
        Assert.Equal("GET /collections/docs", Assert.Single(_qdrant.Requests).ToString());
        AssertMatchesSpec();
    }

    [Fact]
    public async Task A_missing_collection_has_no_status_and_deleting_it_says_false()
    {
        var maintenance = Maintenance();

        Assert.Null(await maintenance.ReadStatusAsync());
        Assert.False(await maintenance.DeleteCollectionAsync());
    }

    [Fact]
    public async Task Delete_sends_delete_on_the_collection_and_reads_the_result()
    {
        _qdrant.On("DELETE", "/collections/docs", QdrantAnswers.True());

        Assert.True(await Maintenance().DeleteCollectionAsync());
        Assert.Equal("DELETE /collections/docs", Assert.Single(_qdrant.Requests).ToString());
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Waiting_ends_after_two_green_answers_in_a_row()
    {
        var answers = new Queue<string>([Status("green"), Status("yellow", indexed: 10), Status("green"), Status("green"), Status("yellow")]);
        _qdrant.On("GET", "/collections/docs", _ => (HttpStatusCode.OK, answers.Dequeue()));
        var seen = new List<string>();

        var status = await Maintenance().WaitUntilOptimizedAsync(TimeSpan.FromMilliseconds(1), new SynchronousProgress(s => seen.Add(s.Status)));

        Assert.True(status.IsGreen);
        Assert.Equal(["green", "yellow", "green", "green"], seen);
    }

    [Fact]
    public async Task Waiting_fails_with_the_optimizers_error()
    {
        _qdrant.On("GET", "/collections/docs", Status("red", new JsonObject { ["error"] = "disk full" }));

        var error = await Assert.ThrowsAsync<QdrantException>(() => Maintenance().WaitUntilOptimizedAsync(TimeSpan.FromMilliseconds(1)));

        Assert.Contains("is red; its optimizers report: disk full", error.Message, StringComparison.Ordinal);
    }

    private void AssertMatchesSpec()
    {
        foreach (var request in _qdrant.Requests)
        {
            var problems = QdrantSpecs.TryGet("1.19")?.ValidateRequest(request.Method, request.Path, request.Body) ?? [];
            Assert.True(problems.Count == 0, $"{request}: {string.Join("\n", problems)}");
        }
    }

    private sealed class SynchronousProgress(Action<QdrantCollectionStatus> report) : IProgress<QdrantCollectionStatus>
    {
        public void Report(QdrantCollectionStatus value) => report(value);
    }
}
