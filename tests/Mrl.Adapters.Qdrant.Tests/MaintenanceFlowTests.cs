using Grpc.Core;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// <see cref="QdrantMaintenance"/>'s calls and how it reads the answers, against the in-process fake gRPC server (not a
/// server). Every call it makes is checked against Qdrant 1.17's gRPC surface.
/// </summary>
public sealed class MaintenanceFlowTests : IDisposable
{
    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;

    public MaintenanceFlowTests() => _client = _qdrant.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task Status_is_read_from_the_collection_info()
    {
        _qdrant.On("qdrant.Collections/Get", _ => Status(Proto.CollectionStatus.Yellow, indexed: 400));

        var status = await Maintenance().ReadStatusAsync();

        Assert.Equal(new QdrantCollectionStatus("yellow", null, 1000, 400, 3), status);
        Assert.False(status!.IsGreen);
        Assert.Equal("docs", Assert.Single(_qdrant.Calls).As<Proto.GetCollectionInfoRequest>().CollectionName);
        ProtoSurface.Of("1.17.0").AssertSupports(_qdrant.Calls);
    }

    [Fact]
    public async Task A_missing_collection_has_no_status_and_deleting_it_says_false()
    {
        _qdrant.Fail("qdrant.Collections/Get", StatusCode.NotFound, "Collection `docs` doesn't exist!")
            .On("qdrant.Collections/Delete", _ => new Proto.CollectionOperationResponse { Result = false });
        var maintenance = Maintenance();

        Assert.Null(await maintenance.ReadStatusAsync());
        Assert.False(await maintenance.DeleteCollectionAsync());
    }

    [Fact]
    public async Task Delete_deletes_the_collection_and_reads_the_result()
    {
        _qdrant.On("qdrant.Collections/Delete", _ => new Proto.CollectionOperationResponse { Result = true });

        Assert.True(await Maintenance().DeleteCollectionAsync());

        Assert.Equal("docs", Assert.Single(_qdrant.Calls).As<Proto.DeleteCollection>().CollectionName);
        ProtoSurface.Of("1.17.0").AssertSupports(_qdrant.Calls);
    }

    [Fact]
    public async Task Waiting_ends_after_two_green_answers_in_a_row()
    {
        var answers = new Queue<Proto.GetCollectionInfoResponse>([
            Status(Proto.CollectionStatus.Green), Status(Proto.CollectionStatus.Yellow, indexed: 10), Status(Proto.CollectionStatus.Green),
            Status(Proto.CollectionStatus.Green), Status(Proto.CollectionStatus.Yellow),
        ]);
        _qdrant.On("qdrant.Collections/Get", _ => answers.Dequeue());
        var seen = new List<string>();

        var status = await Maintenance().WaitUntilOptimizedAsync(TimeSpan.FromMilliseconds(1), new SynchronousProgress(s => seen.Add(s.Status)));

        Assert.True(status.IsGreen);
        Assert.Equal(["green", "yellow", "green", "green"], seen);
    }

    [Fact]
    public async Task Waiting_fails_with_the_optimizers_error()
    {
        _qdrant.On("qdrant.Collections/Get", _ => Status(Proto.CollectionStatus.Red, new Proto.OptimizerStatus { Ok = false, Error = "disk full" }));

        var error = await Assert.ThrowsAsync<QdrantException>(() => Maintenance().WaitUntilOptimizedAsync(TimeSpan.FromMilliseconds(1)));

        Assert.Contains("is red; its optimizers report: disk full", error.Message, StringComparison.Ordinal);
    }

    private QdrantMaintenance Maintenance() => new(_client, Samples.Options());

    private static Proto.GetCollectionInfoResponse Status(Proto.CollectionStatus status, Proto.OptimizerStatus? optimizer = null, ulong indexed = 1000) => new()
    {
        Result = new Proto.CollectionInfo
        {
            Status = status,
            OptimizerStatus = optimizer ?? new Proto.OptimizerStatus { Ok = true },
            IndexedVectorsCount = indexed,
            PointsCount = 1000,
            SegmentsCount = 3,
            Config = new Proto.CollectionConfig { Params = new Proto.CollectionParams() },
        },
    };

    private sealed class SynchronousProgress(Action<QdrantCollectionStatus> report) : IProgress<QdrantCollectionStatus>
    {
        public void Report(QdrantCollectionStatus value) => report(value);
    }
}
