using Grpc.Core;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The migrator's calls through a real <see cref="QdrantClient"/> to the in-process fake gRPC server: contract tests of
/// what it sends and in which order, not a substitute for running a migration on a server. Every call is checked
/// against the gRPC surface of the server version the fake reports.
/// </summary>
public sealed class MigratorFlowTests : IDisposable
{
    private static readonly PrefixProjection Projection = ProjectionFitter.Fit(Samples.Vectors(400, 32, seed: 11), 32, 8, DistanceMetric.Cosine);

    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;
    private readonly float[] _vectors = Samples.Vectors(3);

    public MigratorFlowTests() => _client = _qdrant.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task Planning_only_reads()
    {
        await InPlaceServerAsync();

        var plan = await Migrator().PlanAsync(new QdrantMigrationOptions());

        Assert.Equal(QdrantMigrationPath.InPlace, plan.Path);
        Assert.Equal(["qdrant.Qdrant/HealthCheck", "qdrant.Collections/ListAliases", "qdrant.Collections/Get", "qdrant.Collections/Get"], _qdrant.MethodNames);
    }

    [Fact]
    public async Task In_place_migration_adds_the_vector_then_backfills_page_by_page_with_progress()
    {
        var collection = await InPlaceServerAsync();
        var progress = new List<QdrantMigrationProgress>();
        var migrator = Migrator();

        var result = await migrator.ExecuteAsync(await migrator.PlanAsync(new QdrantMigrationOptions { BatchSize = 2 }), new SyncProgress(progress));

        Assert.Equal(
        [
            "qdrant.Points/CreateVectorName",
            "qdrant.Points/Scroll",
            "qdrant.Points/UpdateVectors",
            "qdrant.Points/Scroll",
        ], _qdrant.MethodNames.Skip(4));
        var create = _qdrant.Calls[4].As<Proto.CreateVectorNameRequest>();
        Assert.Equal(("docs", "prefix", 8ul, Proto.Distance.Cosine, true), (create.CollectionName, create.VectorName, create.DenseConfig.Size, create.DenseConfig.Distance, create.Wait));
        var scroll = _qdrant.Calls[5].As<Proto.ScrollPoints>();
        Assert.Equal(2u, scroll.Limit);
        Assert.Equal(["full"], scroll.WithVectors.Include.Names);
        Assert.False(scroll.WithPayload.Enable);
        var update = _qdrant.Calls[6].As<Proto.UpdatePointVectors>();
        Assert.True(update.Wait);
        var first = update.Points[0];
        Assert.Equal(1ul, first.Id.Num);
        Assert.Equal(Samples.Layout().ToPrefix(_vectors.AsSpan(0, 32)), first.Vectors.Vectors_.Vectors["prefix"].Dense.Data);
        Assert.False(first.Vectors.Vectors_.Vectors.ContainsKey("full"));

        Assert.Equal(2, progress.Count);
        Assert.Equal(new QdrantMigrationProgress("backfill", 2, 3, 0, QdrantPointId.FromNumber(3)), progress[0]);
        Assert.Equal(new QdrantMigrationProgress("backfill", 3, 3, 1, null), progress[1]);
        Assert.Equal(QdrantMigrationPath.InPlace, result.Path);
        Assert.Equal("docs", result.Collection);
        Assert.Equal(3, result.PointsProcessed);
        Assert.Equal(1, result.PointsWithoutPrefix);
        Assert.Equal([QdrantPointId.FromNumber(3)], result.SomePointsWithoutPrefix);
        Assert.Equal(2, collection.Points.Count(p => p.Vectors.Vectors_.Vectors.ContainsKey("prefix")));
        ProtoSurface.Of("1.18.0").AssertSupports(_qdrant.Calls);
    }

    [Fact]
    public async Task Backfill_resumes_from_the_checkpoint()
    {
        await InPlaceServerAsync(prefixExists: true);

        await Migrator().MigrateAsync(new QdrantMigrationOptions { BatchSize = 2, ResumeFrom = QdrantPointId.FromNumber(3) });

        var scroll = Assert.Single(_qdrant.Calls, c => c.Method == "qdrant.Points/Scroll").As<Proto.ScrollPoints>();
        Assert.Equal(3ul, scroll.Offset.Num);
        Assert.DoesNotContain("qdrant.Points/CreateVectorName", _qdrant.MethodNames);
    }

    [Fact]
    public async Task Copy_path_creates_the_collection_copies_points_with_both_vectors_and_switches_the_alias()
    {
        _qdrant.Version = "1.17.0";
        var source = new Proto.CollectionInfo
        {
            PointsCount = 2,
            Config = new Proto.CollectionConfig
            {
                Params = new Proto.CollectionParams
                {
                    ShardNumber = 3, ReplicationFactor = 2,
                    VectorsConfig = new Proto.VectorsConfig { Params = new Proto.VectorParams { Size = 32, Distance = Proto.Distance.Cosine } },
                },
            },
            PayloadSchema = { ["category"] = new Proto.PayloadSchemaInfo { DataType = Proto.PayloadSchemaType.Keyword } },
        };
        var page = new Proto.ScrollResponse
        {
            Result =
            {
                new Proto.RetrievedPoint
                {
                    Id = new Proto.PointId { Num = 10 },
                    Payload = { ["category"] = new Proto.Value { StringValue = "c1" } },
                    Vectors = new Proto.VectorsOutput { Vector = new Proto.VectorOutput { Dense = new Proto.DenseVector { Data = { _vectors.AsSpan(0, 32).ToArray() } } } },
                },
                new Proto.RetrievedPoint { Id = new Proto.PointId { Num = 11 } },
            },
        };
        _qdrant.On("qdrant.Collections/ListAliases", _ => new Proto.ListAliasesResponse { Aliases = { new Proto.AliasDescription { AliasName = "docs", CollectionName = "docs-v1" } } })
            .On<Proto.GetCollectionInfoRequest>("qdrant.Collections/Get", r => r.CollectionName == "docs"
                ? new Proto.GetCollectionInfoResponse { Result = source }
                : throw new RpcException(new Status(StatusCode.NotFound, $"Collection `{r.CollectionName}` doesn't exist!")))
            .On("qdrant.Collections/Create", _ => new Proto.CollectionOperationResponse { Result = true })
            .On("qdrant.Points/CreateFieldIndex", _ => FakeQdrantCollection.Completed())
            .On("qdrant.Points/Scroll", _ => page)
            .On("qdrant.Points/Upsert", _ => FakeQdrantCollection.Completed())
            .On("qdrant.Collections/UpdateAliases", _ => new Proto.CollectionOperationResponse { Result = true });

        var result = await Migrator().MigrateAsync(new QdrantMigrationOptions());

        Assert.Equal(
        [
            "qdrant.Collections/Create",
            "qdrant.Points/CreateFieldIndex",
            "qdrant.Points/Scroll",
            "qdrant.Points/Upsert",
            "qdrant.Collections/UpdateAliases",
        ], _qdrant.MethodNames.Skip(4));
        var create = _qdrant.Calls[4].As<Proto.CreateCollection>();
        Assert.Equal(("docs-v1-mrl", 3u, 2u), (create.CollectionName, create.ShardNumber, create.ReplicationFactor));
        Assert.Equal(Proto.FieldType.Keyword, _qdrant.Calls[5].As<Proto.CreateFieldIndexCollection>().FieldType);
        Assert.True(_qdrant.Calls[6].As<Proto.ScrollPoints>().WithVectors.Enable);
        var points = _qdrant.Calls[7].As<Proto.UpsertPoints>().Points;
        Assert.Equal(8, points[0].Vectors.Vectors_.Vectors["prefix"].Dense.Data.Count);
        Assert.Equal(32, points[0].Vectors.Vectors_.Vectors["full"].Dense.Data.Count);
        Assert.Equal("c1", points[0].Payload["category"].StringValue);
        Assert.Empty(points[1].Vectors.Vectors_.Vectors);
        var aliases = _qdrant.Calls[8].As<Proto.ChangeAliases>().Actions;
        Assert.Equal("docs", aliases[0].DeleteAlias.AliasName);
        Assert.Equal(("docs", "docs-v1-mrl"), (aliases[1].CreateAlias.AliasName, aliases[1].CreateAlias.CollectionName));
        Assert.Equal("docs", result.Collection);
        Assert.Equal(1, result.PointsWithoutPrefix);
        Assert.Equal(QdrantMigrationPath.NewCollection, result.Path);
        ProtoSurface.Of("1.17.0").AssertSupports(_qdrant.Calls);
    }

    [Fact]
    public async Task In_place_migration_with_a_projection_stores_and_names_it_before_adding_the_vector_then_backfills_projected_keys()
    {
        var collection = await InPlaceServerAsync();
        var side = new FakeQdrantCollection(_qdrant, "docs_mrl_projection");
        var layout = new EmbeddingLayout(Projection, DistanceMetric.Cosine);
        var migrator = new QdrantMigrator(_client, Samples.Options(layout));

        var result = await migrator.ExecuteAsync(await migrator.PlanAsync(new QdrantMigrationOptions { BatchSize = 2 }));

        Assert.Equal(
        [
            "qdrant.Collections/Get",
            "qdrant.Collections/Create",
            "qdrant.Collections/Get",
            "qdrant.Points/CreateFieldIndex",
            "qdrant.Points/Scroll",
            "qdrant.Points/Upsert",
            "qdrant.Collections/Update",
            "qdrant.Points/CreateVectorName",
            "qdrant.Points/Scroll",
            "qdrant.Points/UpdateVectors",
            "qdrant.Points/Scroll",
        ], _qdrant.MethodNames.Skip(4));
        Assert.Equal("docs_mrl_projection", _qdrant.Calls[9].As<Proto.UpsertPoints>().CollectionName);
        var update = _qdrant.Calls[10].As<Proto.UpdateCollection>();
        Assert.Equal("docs", update.CollectionName);
        Assert.Equal(1, update.Metadata["mrl_projection:prefix"].StructValue.Fields["version"].IntegerValue);
        var keys = _qdrant.Calls[13].As<Proto.UpdatePointVectors>().Points[0].Vectors.Vectors_.Vectors["prefix"].Dense.Data;
        Assert.Equal(layout.ToPrefix(_vectors.AsSpan(0, 32)), keys);
        Assert.NotEqual(Samples.Layout().ToPrefix(_vectors.AsSpan(0, 32)), keys);
        Assert.Equal((3, 1), (result.PointsProcessed, result.PointsWithoutPrefix));
        Assert.Equal(8, side.PointCount);
        ProtoSurface.Of("1.18.0").AssertSupports(_qdrant.Calls);

        // Any client now opens the store with the layout the collection records.
        Assert.Equal(layout, await QdrantMigrator.ReadLayoutAsync(_client, new QdrantStoreOptions { Collection = "docs" }));
        await new QdrantAdaptiveStore<long>(_client, Samples.Options(layout)).EnsureSchemaAsync();
        Assert.Equal(2, collection.Points.Count(p => p.Vectors.Vectors_.Vectors.ContainsKey("prefix")));
    }

    [Fact]
    public async Task A_rerun_with_the_projection_the_collection_records_only_backfills()
    {
        await InPlaceServerAsync();
        _ = new FakeQdrantCollection(_qdrant, "docs_mrl_projection");
        var migrator = new QdrantMigrator(_client, Samples.Options(new EmbeddingLayout(Projection, DistanceMetric.Cosine)));
        await migrator.MigrateAsync(new QdrantMigrationOptions());
        _qdrant.Clear();

        var plan = await migrator.PlanAsync(new QdrantMigrationOptions { ResumeFrom = QdrantPointId.FromNumber(2) });
        await migrator.ExecuteAsync(plan);

        Assert.Equal(["qdrant.Points/Scroll", "qdrant.Points/UpdateVectors"], _qdrant.MethodNames.Skip(4));
        Assert.DoesNotContain(plan.Notes, n => n.Contains("docs_mrl_projection", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_migration_with_another_projection_than_the_one_recorded_is_refused_before_any_write()
    {
        await InPlaceServerAsync();
        _ = new FakeQdrantCollection(_qdrant, "docs_mrl_projection");
        await new QdrantMigrator(_client, Samples.Options(new EmbeddingLayout(Projection, DistanceMetric.Cosine))).MigrateAsync(new QdrantMigrationOptions());
        _qdrant.Clear();
        var refit = ProjectionFitter.Fit(Samples.Vectors(400, 32, seed: 11), 32, 8, DistanceMetric.Cosine, version: 2);

        var other = await Assert.ThrowsAsync<QdrantMigrationException>(() =>
            new QdrantMigrator(_client, Samples.Options(new EmbeddingLayout(refit, DistanceMetric.Cosine))).PlanAsync(new QdrantMigrationOptions()));
        var truncating = await Assert.ThrowsAsync<QdrantMigrationException>(() => Migrator().PlanAsync(new QdrantMigrationOptions()));

        Assert.Contains("computed with projection version 1 (8 × 32), not with projection v2 8×32", other.Message, StringComparison.Ordinal);
        Assert.Contains("and the layout truncates", truncating.Message, StringComparison.Ordinal);
        Assert.Contains("choose another PrefixVectorName (--prefix-vector)", truncating.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_qdrant.MethodNames, m => m is "qdrant.Points/Upsert" or "qdrant.Collections/Update" or "qdrant.Points/UpdateVectors");
    }

    [Fact]
    public async Task Copy_path_with_a_projection_stores_it_first_and_creates_the_target_with_the_marker()
    {
        _qdrant.Version = "1.17.0";
        var unnamed = new Proto.VectorsConfig { Params = new Proto.VectorParams { Size = 32, Distance = Proto.Distance.Cosine } };
        _ = new FakeQdrantCollection(_qdrant, vectors: unnamed);
        var target = new FakeQdrantCollection(_qdrant, "docs-mrl");
        var side = new FakeQdrantCollection(_qdrant, "live_mrl_projection");
        _qdrant.On("qdrant.Collections/ListAliases", _ => new Proto.ListAliasesResponse())
            .On("qdrant.Collections/UpdateAliases", _ => new Proto.CollectionOperationResponse { Result = true });
        await _client.UpsertAsync("docs", [
            new Proto.PointStruct { Id = new Proto.PointId { Num = 1 }, Vectors = new Proto.Vectors { Vector = QdrantProtos.Vector(_vectors.AsSpan(0, 32)) } },
            new Proto.PointStruct { Id = new Proto.PointId { Num = 2 }, Vectors = new Proto.Vectors { Vector = QdrantProtos.Vector(_vectors.AsSpan(32, 32)) } },
        ]);
        _qdrant.Clear();
        var layout = new EmbeddingLayout(Projection, DistanceMetric.Cosine);

        var result = await new QdrantMigrator(_client, Samples.Options(layout)).MigrateAsync(new QdrantMigrationOptions { Alias = "live" });

        Assert.Equal(
        [
            "qdrant.Collections/Get",
            "qdrant.Collections/Create",
            "qdrant.Collections/Get",
            "qdrant.Points/CreateFieldIndex",
            "qdrant.Points/Scroll",
            "qdrant.Points/Upsert",
            "qdrant.Collections/Create",
            "qdrant.Points/Scroll",
            "qdrant.Points/Upsert",
            "qdrant.Collections/UpdateAliases",
        ], _qdrant.MethodNames.Skip(4));
        var create = _qdrant.Calls[10].As<Proto.CreateCollection>();
        Assert.Equal("docs-mrl", create.CollectionName);
        Assert.Equal("live_mrl_projection", create.Metadata["mrl_projection:prefix"].StructValue.Fields["collection"].StringValue);
        Assert.Equal(layout.ToPrefix(_vectors.AsSpan(32, 32)), target.Points.Single(p => p.Id.Num == 2).Vectors.Vectors_.Vectors["prefix"].Dense.Data);
        Assert.Equal(("live", 8), (result.Collection, side.PointCount));
        Assert.Equal(layout, await QdrantMigrator.ReadLayoutAsync(_client, new QdrantStoreOptions { Collection = "docs-mrl" }));
        ProtoSurface.Of("1.17.0").AssertSupports(_qdrant.Calls);
    }

    [Fact]
    public async Task Missing_collection_is_refused_by_name()
    {
        _qdrant.On("qdrant.Collections/ListAliases", _ => new Proto.ListAliasesResponse())
            .Fail("qdrant.Collections/Get", StatusCode.NotFound, "Collection `docs` doesn't exist!");

        var error = await Assert.ThrowsAsync<QdrantMigrationException>(() => Migrator().PlanAsync(new QdrantMigrationOptions()));

        Assert.Contains("'docs'", error.Message, StringComparison.Ordinal);
    }

    private async Task<FakeQdrantCollection> InPlaceServerAsync(bool prefixExists = false)
    {
        var vectors = FakeQdrantCollection.StoreVectors(Samples.Layout());
        if (!prefixExists)
        {
            vectors.ParamsMap.Map.Remove("prefix");
        }

        var collection = new FakeQdrantCollection(_qdrant, vectors: vectors);
        _qdrant.On("qdrant.Collections/ListAliases", _ => new Proto.ListAliasesResponse());
        await _client.UpsertAsync("docs", [
            QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber(1), [], _vectors.AsSpan(0, 32), "prefix", "full"),
            QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber(2), [], _vectors.AsSpan(32, 32), "prefix", "full"),
            QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber(3), [], new float[32], "prefix", "full"),
        ]);
        _qdrant.Clear();
        return collection;
    }

    private QdrantMigrator Migrator() => new(_client, Samples.Options());

    private sealed class SyncProgress(List<QdrantMigrationProgress> reports) : IProgress<QdrantMigrationProgress>
    {
        public void Report(QdrantMigrationProgress value) => reports.Add(value);
    }
}
