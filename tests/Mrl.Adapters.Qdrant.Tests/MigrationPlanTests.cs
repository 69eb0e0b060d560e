using System.Text.Json;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Qdrant.Tests.Support;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>The migration plan is a pure function of the server's state and the options; these tests need no server.</summary>
public sealed class MigrationPlanTests
{
    private static readonly Dictionary<string, string> NoAliases = [];
    private static readonly PrefixProjection Projection = ProjectionFitter.Fit(Samples.Vectors(400, 32, seed: 11), 32, 8, DistanceMetric.Cosine);

    public static TheoryData<string> Versions => new("1.17.0", "1.18.0", "1.19.0");

    [Theory]
    [InlineData("1.18.0")]
    [InlineData("1.19.0")]
    public void Named_full_vector_on_1_18_or_later_is_migrated_in_place(string version)
    {
        var plan = Plan(version, Named(("full", Full())));

        Assert.Equal(QdrantMigrationPath.InPlace, plan.Path);
        Assert.Equal("docs", plan.TargetCollection);
        Assert.Null(plan.Alias);
        Assert.Equal("docs", plan.StoreCollection);
        Assert.Equal(["qdrant.Points/CreateVectorName", "qdrant.Points/Scroll", "qdrant.Points/UpdateVectors"], plan.Requests.Select(r => r.Call));
        using var create = JsonDocument.Parse(plan.Requests[0].Body!);
        Assert.Equal("prefix", create.RootElement.GetProperty("vectorName").GetString());
        Assert.Equal("8", create.RootElement.GetProperty("denseConfig").GetProperty("size").GetString());
        Assert.Equal("Cosine", create.RootElement.GetProperty("denseConfig").GetProperty("distance").GetString());
        Assert.True(create.RootElement.GetProperty("wait").GetBoolean());
        Assert.Null(plan.Requests[2].Body);
        Assert.Contains("for each page", plan.Requests[2].Note, StringComparison.Ordinal);
        AssertRequestsMatchSpec(plan, version);
    }

    [Fact]
    public void Named_full_vector_on_1_17_goes_through_a_new_collection_and_an_alias()
    {
        var plan = Plan("1.17.0", Named(("full", Full())) with { Name = "docs", CollectionName = "docs-v1" }, aliases: new() { ["docs"] = "docs-v1" });

        Assert.Equal(QdrantMigrationPath.NewCollection, plan.Path);
        Assert.Equal("docs-v1-mrl", plan.TargetCollection);
        Assert.Equal("docs", plan.Alias);
        Assert.Equal(["qdrant.Collections/Create", "qdrant.Points/Scroll", "qdrant.Points/Upsert", "qdrant.Collections/UpdateAliases"], plan.Requests.Select(r => r.Call));
        using var create = JsonDocument.Parse(plan.Requests[0].Body!);
        Assert.Equal("docs-v1-mrl", create.RootElement.GetProperty("collectionName").GetString());
        var full = create.RootElement.GetProperty("vectorsConfig").GetProperty("paramsMap").GetProperty("map").GetProperty("full");
        Assert.True(full.GetProperty("onDisk").GetBoolean());
        Assert.False(full.TryGetProperty("memory", out _));
        Assert.Equal(
            """{ "actions": [ { "deleteAlias": { "aliasName": "docs" } }, { "createAlias": { "collectionName": "docs-v1-mrl", "aliasName": "docs" } } ] }""",
            plan.Requests[3].Body);
        AssertRequestsMatchSpec(plan, "1.17.0");
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Unnamed_vector_goes_through_a_new_collection_on_every_version(string version)
    {
        var source = Unnamed() with { Name = "docs", CollectionName = "docs-v1" };
        var plan = Plan(version, source, aliases: new() { ["docs"] = "docs-v1" });

        Assert.Equal(QdrantMigrationPath.NewCollection, plan.Path);
        Assert.Null(plan.SourceVectorName);
        using var scroll = JsonDocument.Parse(plan.Requests[1].Body!);
        Assert.True(scroll.RootElement.GetProperty("withVectors").GetProperty("enable").GetBoolean());
        Assert.True(scroll.RootElement.GetProperty("withPayload").GetProperty("enable").GetBoolean());
        AssertRequestsMatchSpec(plan, version);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void New_collection_copies_distribution_settings_and_payload_indexes(string version)
    {
        var source = Unnamed() with
        {
            Name = "docs",
            CollectionName = "docs-v1",
            ShardNumber = 4,
            ReplicationFactor = 2,
            PayloadIndexes = new Dictionary<string, string> { ["category"] = "keyword", ["rank"] = "integer" },
        };
        var store = Samples.Options();
        store.PayloadIndexes.Add(new QdrantPayloadIndex("created", QdrantPayloadSchemaType.Datetime));

        var plan = Plan(version, source, store: store, aliases: new() { ["docs"] = "docs-v1" });

        using var create = JsonDocument.Parse(plan.Requests[0].Body!);
        Assert.Equal(4, create.RootElement.GetProperty("shardNumber").GetInt32());
        Assert.Equal(2, create.RootElement.GetProperty("replicationFactor").GetInt32());
        Assert.Equal(["qdrant.Points/CreateFieldIndex"], plan.Requests.Skip(1).Take(3).Select(r => r.Call).Distinct());
        Assert.Equal(["category", "created", "rank"], plan.Requests.Skip(1).Take(3).Select(r => JsonDocument.Parse(r.Body!).RootElement.GetProperty("fieldName").GetString()));
        Assert.Contains(plan.Notes, n => n.Contains("index parameters", StringComparison.Ordinal));
        AssertRequestsMatchSpec(plan, version);
    }

    [Fact]
    public void Payload_index_fields_with_path_syntax_are_indexed_as_one_key_and_a_nested_source_index_is_copied_as_a_path()
    {
        var source = Unnamed() with
        {
            Name = "docs",
            CollectionName = "docs-v1",
            PayloadIndexes = new Dictionary<string, string> { ["meta.lang"] = "keyword", ["\"with.dot\""] = "keyword", ["é"] = "keyword" },
        };
        var store = Samples.Options();
        store.PayloadIndexes.Add(new QdrantPayloadIndex("with.dot", QdrantPayloadSchemaType.Integer));
        store.PayloadIndexes.Add(new QdrantPayloadIndex("é", QdrantPayloadSchemaType.Keyword));
        store.PayloadIndexes.Add(new QdrantPayloadIndex("meta.lang", QdrantPayloadSchemaType.Keyword));

        var plan = Plan("1.19.0", source, store: store, aliases: new() { ["docs"] = "docs-v1" });

        var indexes = plan.Requests.Where(r => r.Call == "qdrant.Points/CreateFieldIndex")
            .Select(r => JsonDocument.Parse(r.Body!).RootElement)
            .Select(b => (b.GetProperty("fieldName").GetString(), b.TryGetProperty("fieldType", out var t) ? t.GetString() : "FieldTypeKeyword"));
        Assert.Equal([("\"meta.lang\"", "FieldTypeKeyword"), ("\"with.dot\"", "FieldTypeInteger"), ("meta.lang", "FieldTypeKeyword"), ("é", "FieldTypeKeyword")], indexes);
        AssertRequestsMatchSpec(plan, "1.19.0");
    }

    [Fact]
    public void In_place_asked_on_1_17_is_refused_naming_the_missing_endpoint_and_the_alternative()
    {
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.17.2", Named(("full", Full())), options: new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace }));

        Assert.Contains("Qdrant 1.17.2", error.Message, StringComparison.Ordinal);
        Assert.Contains("qdrant.Points/CreateVectorName", error.Message, StringComparison.Ordinal);
        Assert.Contains("1.18", error.Message, StringComparison.Ordinal);
        Assert.Contains("NewCollection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_place_asked_for_an_unnamed_vector_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.19.0", Unnamed(), options: new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace }));
        Assert.Contains("unnamed vector", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void In_place_with_another_full_vector_name_asks_to_configure_that_name()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("embedding", Full())),
            options: new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace, SourceVectorName = "embedding" }));
        Assert.Contains("FullVectorName = \"embedding\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_with_another_full_vector_name_renames_it_by_copying()
    {
        var plan = Plan("1.19.0", Named(("embedding", Full())), options: new QdrantMigrationOptions { SourceVectorName = "embedding", Alias = "docs-live" });

        Assert.Equal(QdrantMigrationPath.NewCollection, plan.Path);
        Assert.Equal("embedding", plan.SourceVectorName);
        Assert.Equal("docs-live", plan.StoreCollection);
        Assert.Contains(plan.Notes, n => n.Contains("Alias 'docs-live' is new", StringComparison.Ordinal));
        using var switchAlias = JsonDocument.Parse(plan.Requests[^1].Body!);
        Assert.Equal("docs-live", Assert.Single(switchAlias.RootElement.GetProperty("actions").EnumerateArray()).GetProperty("createAlias").GetProperty("aliasName").GetString());
    }

    [Fact]
    public void Server_too_old_for_the_store_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.9.0", Unnamed()));
        Assert.Contains("1.10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void New_collection_without_an_alias_is_refused_with_what_to_set()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.17.0", Unnamed()));
        Assert.Contains("QdrantMigrationOptions.Alias", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Alias_with_the_name_of_the_source_collection_is_refused()
    {
        Assert.Throws<QdrantMigrationException>(() => Plan("1.17.0", Unnamed(), options: new QdrantMigrationOptions { Alias = "docs" }));
    }

    [Fact]
    public void Vector_of_the_wrong_size_or_distance_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("full", new QdrantVectorInfo(768, "Dot")))));
        Assert.Contains("768 dimensions and distance Dot", error.Message, StringComparison.Ordinal);
        Assert.Contains("32 dimensions and Cosine", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_source_vector_is_refused_listing_the_names()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("text", Full()), ("image", Full()))));
        Assert.Contains("'text', 'image'", error.Message, StringComparison.Ordinal);
        Assert.Contains("SourceVectorName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Copy_that_would_drop_other_vectors_is_refused()
    {
        var source = Named(("full", Full()), ("title", new QdrantVectorInfo(8, "Cosine"))) with { SparseVectorNames = ["bm25"] };
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.17.0", source, options: new QdrantMigrationOptions { Alias = "docs-live" }));
        Assert.Contains("'title', sparse 'bm25'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Collection_that_already_has_the_prefix_vector_is_only_backfilled_even_on_1_17()
    {
        var plan = Plan("1.17.0", Named(("full", Full(m: 0)), ("prefix", new QdrantVectorInfo(8, "Cosine"))),
            options: new QdrantMigrationOptions { ResumeFrom = QdrantPointId.FromNumber(5000) });

        Assert.Equal(QdrantMigrationPath.InPlace, plan.Path);
        Assert.Equal(["qdrant.Points/Scroll", "qdrant.Points/UpdateVectors"], plan.Requests.Select(r => r.Call));
        using var scroll = JsonDocument.Parse(plan.Requests[0].Body!);
        Assert.Equal("5000", scroll.RootElement.GetProperty("offset").GetProperty("num").GetString());
        Assert.DoesNotContain(plan.Notes, n => n.Contains("HNSW graph", StringComparison.Ordinal));
        AssertRequestsMatchSpec(plan, "1.17.0");
    }

    [Fact]
    public void Existing_prefix_vector_of_another_shape_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("full", Full()), ("prefix", new QdrantVectorInfo(16, "Cosine")))));
        Assert.Contains("PrefixVectorName", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Existing_matching_target_is_reused_so_an_interrupted_copy_resumes()
    {
        var target = Named(("prefix", new QdrantVectorInfo(8, "Cosine")), ("full", Full(m: 0))) with
        {
            Name = "docs-v1-mrl",
            CollectionName = "docs-v1-mrl",
        };
        var state = new QdrantServerState(new Version(1, 17, 0), Unnamed() with { Name = "docs", CollectionName = "docs-v1" }, target,
            new Dictionary<string, string> { ["docs"] = "docs-v1" });

        var plan = QdrantMigrationPlan.Create(state, Samples.Options(), new QdrantMigrationOptions { ResumeFrom = QdrantPointId.FromNumber(77) });

        Assert.Equal(["qdrant.Points/Scroll", "qdrant.Points/Upsert", "qdrant.Collections/UpdateAliases"], plan.Requests.Select(r => r.Call));
        Assert.Contains("into 'docs-v1-mrl'", plan.Requests[1].Note, StringComparison.Ordinal);
    }

    [Fact]
    public void Existing_target_of_another_shape_is_refused()
    {
        var state = new QdrantServerState(new Version(1, 17, 0), Unnamed() with { Name = "docs", CollectionName = "docs-v1" },
            Unnamed() with { Name = "docs-v1-mrl", CollectionName = "docs-v1-mrl" }, new Dictionary<string, string> { ["docs"] = "docs-v1" });

        var error = Assert.Throws<QdrantMigrationException>(() => QdrantMigrationPlan.Create(state, Samples.Options(), new QdrantMigrationOptions()));
        Assert.Contains("docs-v1-mrl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dry_run_text_names_the_path_every_call_and_its_message()
    {
        var plan = Plan("1.19.0", Named(("full", Full())) with { PointsCount = 1000 });

        var text = plan.ToString();

        Assert.Contains("Qdrant 1.19.0: add the prefix vector to 'docs' in place, from vector 'full' (~1000 points).", text, StringComparison.Ordinal);
        Assert.Contains("qdrant.Points/CreateVectorName", text, StringComparison.Ordinal);
        Assert.Contains("""{ "collectionName": "docs", "wait": true, "vectorName": "prefix", "denseConfig": { "size": "8", "distance": "Cosine" } }""", text, StringComparison.Ordinal);
        Assert.Contains("~4 pages of 256 points", text, StringComparison.Ordinal);
        Assert.Contains("""{ "collectionName": "docs", "limit": 256, "withPayload": { "enable": false }, "withVectors": { "include": { "names": [ "full" ] } } }""", text, StringComparison.Ordinal);
        Assert.Contains("Note: ", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.ApiKey, text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_state_and_options_give_the_same_plan()
    {
        var first = Plan("1.17.0", Unnamed(), options: new QdrantMigrationOptions { Alias = "docs-live" });
        var second = Plan("1.17.0", Unnamed(), options: new QdrantMigrationOptions { Alias = "docs-live" });
        Assert.Equal(first.ToString(), second.ToString());
        Assert.Equal(first.Requests, second.Requests);
    }

    [Theory]
    [InlineData("1.18.0")]
    [InlineData("1.19.0")]
    public void A_projected_layout_stores_the_projection_and_names_it_before_the_vector_is_added(string version)
    {
        var layout = new EmbeddingLayout(Projection, DistanceMetric.Cosine);

        var plan = Plan(version, Named(("full", Full())), store: Samples.Options(layout));

        Assert.Equal(
        [
            "qdrant.Collections/Create", "qdrant.Points/CreateFieldIndex", "qdrant.Points/Scroll", "qdrant.Points/Upsert",
            "qdrant.Collections/Update", "qdrant.Points/CreateVectorName", "qdrant.Points/Scroll", "qdrant.Points/UpdateVectors",
        ], plan.Requests.Select(r => r.Call));
        using var side = JsonDocument.Parse(plan.Requests[0].Body!);
        Assert.Equal("docs_mrl_projection", side.RootElement.GetProperty("collectionName").GetString());
        Assert.Contains("8 directions of projection v1 8×32", plan.Requests[3].Note, StringComparison.Ordinal);
        using var update = JsonDocument.Parse(plan.Requests[4].Body!);
        var marker = update.RootElement.GetProperty("metadata").GetProperty("mrl_projection:prefix").GetProperty("structValue").GetProperty("fields");
        Assert.Equal("1", marker.GetProperty("version").GetProperty("integerValue").GetString());
        Assert.Contains("P·x for x its 'full', P the projection v1 8×32, renormalized", plan.Requests[7].Note, StringComparison.Ordinal);
        Assert.Contains(plan.Notes, n => n.Contains("stored in 'docs_mrl_projection' before anything else", StringComparison.Ordinal));
        Assert.Contains("docs_mrl_projection", plan.ToString(), StringComparison.Ordinal);
        AssertRequestsMatchSpec(plan, version);
    }

    [Fact]
    public void A_projected_layout_through_a_new_collection_creates_it_with_the_marker()
    {
        var plan = Plan("1.17.0", Unnamed(), new QdrantMigrationOptions { Alias = "live" }, Samples.Options(new EmbeddingLayout(Projection, DistanceMetric.Cosine)));

        Assert.Equal(
        [
            "qdrant.Collections/Create", "qdrant.Points/CreateFieldIndex", "qdrant.Points/Scroll", "qdrant.Points/Upsert",
            "qdrant.Collections/Create", "qdrant.Points/Scroll", "qdrant.Points/Upsert", "qdrant.Collections/UpdateAliases",
        ], plan.Requests.Select(r => r.Call));
        using var create = JsonDocument.Parse(plan.Requests[4].Body!);
        Assert.Equal("docs-mrl", create.RootElement.GetProperty("collectionName").GetString());
        Assert.Equal("live_mrl_projection", create.RootElement.GetProperty("metadata").GetProperty("mrl_projection:prefix")
            .GetProperty("structValue").GetProperty("fields").GetProperty("collection").GetProperty("stringValue").GetString());
        AssertRequestsMatchSpec(plan, "1.17.0");
    }

    [Fact]
    public void A_projected_layout_needs_collection_metadata_from_qdrant_1_16()
    {
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.15.0", Unnamed(), new QdrantMigrationOptions { Alias = "live" }, Samples.Options(new EmbeddingLayout(Projection, DistanceMetric.Cosine))));

        Assert.Contains("Qdrant 1.15.0 cannot record the projection projection v1 8×32", error.Message, StringComparison.Ordinal);
        Assert.Contains("arrived in 1.16.0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncating_layout_on_a_prefix_that_records_a_projection_is_refused()
    {
        var source = Named(("full", Full()), ("prefix", new QdrantVectorInfo(8, "Cosine"))) with
        {
            Projections = new Dictionary<string, QdrantProjectionInfo> { ["prefix"] = QdrantProjectionCodec.Describe(Projection, "docs_mrl_projection") },
        };

        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", source));

        Assert.Contains("Collection 'docs' records that the keys of 'prefix' are computed with projection version 1 (8 × 32), and the layout truncates", error.Message,
            StringComparison.Ordinal);
    }

    private static QdrantMigrationPlan Plan(
        string version, QdrantCollectionInfo source, QdrantMigrationOptions? options = null, QdrantStoreOptions? store = null, Dictionary<string, string>? aliases = null) =>
        QdrantMigrationPlan.Create(new QdrantServerState(Version.Parse(version), source, null, aliases ?? NoAliases), store ?? Samples.Options(),
            options ?? new QdrantMigrationOptions());

    private static QdrantVectorInfo Full(int? m = null) => new(32, "Cosine", m);

    private static QdrantCollectionInfo Unnamed() => new() { Name = "docs", CollectionName = "docs", UnnamedVector = Full() };

    private static QdrantCollectionInfo Named(params (string Name, QdrantVectorInfo Vector)[] vectors) => new()
    {
        Name = "docs",
        CollectionName = "docs",
        NamedVectors = vectors.ToDictionary(v => v.Name, v => v.Vector),
    };

    // Every call the plan makes, as the messages it sends (a per-page write has no message until the points are read;
    // the executor's tests check those), against the gRPC surface of the version.
    private static void AssertRequestsMatchSpec(QdrantMigrationPlan plan, string version)
    {
        var calls = plan.Steps.SelectMany(step => step switch
        {
            SendStep send => [new RecordedCall(send.Call, send.Request, null)],
            BackfillStep backfill => [new RecordedCall("qdrant.Points/Scroll", QdrantMigrationPlan.Scroll(backfill.Collection, plan.ResumeFrom, plan.BatchSize, backfill.FullVectorName, false), null)],
            CopyStep copy => new[] { new RecordedCall("qdrant.Points/Scroll", QdrantMigrationPlan.Scroll(copy.Source, plan.ResumeFrom, plan.BatchSize, copy.SourceVectorName, true), null) },
            StoreProjectionStep stored =>
            [
                new RecordedCall("qdrant.Collections/Create", QdrantProjections.CreateCollection(stored.Collection, stored.Projection.Columns, plan.Store), null),
                new RecordedCall("qdrant.Points/Scroll", QdrantProjections.Scroll(stored.Collection, stored.Projection.Version, stored.Projection.Columns), null),
                new RecordedCall("qdrant.Points/Upsert",
                    new Proto.UpsertPoints { CollectionName = stored.Collection, Wait = true, Points = { QdrantProjectionCodec.Points(stored.Projection) } }, null),
            ],
            _ => [],
        }).ToArray();
        Assert.NotEmpty(calls);
        ProtoSurface.Of(version).AssertSupports(calls);
        foreach (var request in plan.Requests.Where(r => r.Body is null))
        {
            Assert.True(ProtoSurface.Of(version).HasMethod(request.Call), $"{request.Call} against {version}");
        }
    }

    [Fact]
    public void A_vector_created_in_place_is_not_part_of_qdrant_1_17()
    {
        var plan = Plan("1.18.0", Named(("full", Full())));
        var send = Assert.IsType<SendStep>(plan.Steps[0]);

        var problems = ProtoSurface.Of("1.17.0").Problems(new RecordedCall(send.Call, send.Request, null));

        Assert.Contains("rpc qdrant.Points/CreateVectorName", problems);
        Assert.Contains("field qdrant.CreateVectorNameRequest.vector_name", problems);
    }

    [Fact]
    public void Memory_placement_is_not_part_of_qdrant_1_18()
    {
        var create = new Proto.CreateCollection
        {
            CollectionName = "docs",
            VectorsConfig = new Proto.VectorsConfig { Params = new Proto.VectorParams { Size = 4, Distance = Proto.Distance.Cosine, Memory = Proto.Memory.Cold } },
        };

        var problems = ProtoSurface.Of("1.18.0").Problems(new RecordedCall("qdrant.Collections/Create", create, null));

        Assert.Equal(["field qdrant.VectorParams.memory", "enum qdrant.Memory.Cold"], problems);
        Assert.Empty(ProtoSurface.Of("1.19.0").Problems(new RecordedCall("qdrant.Collections/Create", create, null)));
    }
}
