using System.Text.Json;
using Mrl.Adapters.Qdrant.Migration;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>The migration plan is a pure function of the server's state and the options; these tests need no server.</summary>
public sealed class MigrationPlanTests
{
    private static readonly Dictionary<string, string> NoAliases = [];

    public static TheoryData<string> Versions => new("1.17.0", "1.18.0", "1.19.0");

    [SkippableTheory]
    [InlineData("1.18.0")]
    [InlineData("1.19.0")]
    public void Named_full_vector_on_1_18_or_later_is_migrated_in_place(string version)
    {
        var plan = Plan(version, Named(("full", Full())));

        Assert.Equal(QdrantMigrationPath.InPlace, plan.Path);
        Assert.Equal("docs", plan.TargetCollection);
        Assert.Null(plan.Alias);
        Assert.Equal("docs", plan.StoreCollection);
        Assert.Equal(
            ["PUT /collections/docs/vectors/prefix?wait=true", "POST /collections/docs/points/scroll", "PUT /collections/docs/points/vectors?wait=true"],
            plan.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal("""{"dense":{"size":8,"distance":"Cosine"}}""", plan.Requests[0].Body);
        Assert.Null(plan.Requests[2].Body);
        Assert.Contains("for each page", plan.Requests[2].Note, StringComparison.Ordinal);
        AssertRequestsMatchSpec(plan, version);
    }

    [SkippableFact]
    public void Named_full_vector_on_1_17_goes_through_a_new_collection_and_an_alias()
    {
        var plan = Plan("1.17.0", Named(("full", Full())) with { Name = "docs", CollectionName = "docs-v1" }, aliases: new() { ["docs"] = "docs-v1" });

        Assert.Equal(QdrantMigrationPath.NewCollection, plan.Path);
        Assert.Equal("docs-v1-mrl", plan.TargetCollection);
        Assert.Equal("docs", plan.Alias);
        Assert.Equal(
            ["PUT /collections/docs-v1-mrl", "POST /collections/docs/points/scroll", "PUT /collections/docs-v1-mrl/points?wait=true", "POST /collections/aliases"],
            plan.Requests.Select(r => $"{r.Method} {r.Path}"));
        using var create = JsonDocument.Parse(plan.Requests[0].Body!);
        Assert.True(create.RootElement.GetProperty("vectors").GetProperty("full").GetProperty("on_disk").GetBoolean());
        Assert.Equal(
            """{"actions":[{"delete_alias":{"alias_name":"docs"}},{"create_alias":{"collection_name":"docs-v1-mrl","alias_name":"docs"}}]}""",
            plan.Requests[3].Body);
        AssertRequestsMatchSpec(plan, "1.17.0");
    }

    [SkippableTheory]
    [MemberData(nameof(Versions))]
    public void Unnamed_vector_goes_through_a_new_collection_on_every_version(string version)
    {
        var source = Unnamed() with { Name = "docs", CollectionName = "docs-v1" };
        var plan = Plan(version, source, aliases: new() { ["docs"] = "docs-v1" });

        Assert.Equal(QdrantMigrationPath.NewCollection, plan.Path);
        Assert.Null(plan.SourceVectorName);
        using var scroll = JsonDocument.Parse(plan.Requests[1].Body!);
        Assert.True(scroll.RootElement.GetProperty("with_vector").GetBoolean());
        Assert.True(scroll.RootElement.GetProperty("with_payload").GetBoolean());
        AssertRequestsMatchSpec(plan, version);
    }

    [SkippableTheory]
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
        Assert.Equal(4, create.RootElement.GetProperty("shard_number").GetInt32());
        Assert.Equal(2, create.RootElement.GetProperty("replication_factor").GetInt32());
        Assert.Equal(
            ["PUT /collections/docs-v1-mrl/index?wait=true"],
            plan.Requests.Skip(1).Take(3).Select(r => $"{r.Method} {r.Path}").Distinct());
        Assert.Equal(["category", "created", "rank"], plan.Requests.Skip(1).Take(3).Select(r => JsonDocument.Parse(r.Body!).RootElement.GetProperty("field_name").GetString()));
        Assert.Contains(plan.Notes, n => n.Contains("index parameters", StringComparison.Ordinal));
        AssertRequestsMatchSpec(plan, version);
    }

    [SkippableFact]
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

        var indexes = plan.Requests.Where(r => r.Path.EndsWith("/index?wait=true", StringComparison.Ordinal))
            .Select(r => JsonDocument.Parse(r.Body!).RootElement)
            .Select(b => (b.GetProperty("field_name").GetString(), b.GetProperty("field_schema").GetString()));
        Assert.Equal([("\"meta.lang\"", "keyword"), ("\"with.dot\"", "integer"), ("meta.lang", "keyword"), ("é", "keyword")], indexes);
        AssertRequestsMatchSpec(plan, "1.19.0");
    }

    [SkippableFact]
    public void In_place_asked_on_1_17_is_refused_naming_the_missing_endpoint_and_the_alternative()
    {
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.17.2", Named(("full", Full())), options: new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace }));

        Assert.Contains("Qdrant 1.17.2", error.Message, StringComparison.Ordinal);
        Assert.Contains("/vectors/{vector_name}", error.Message, StringComparison.Ordinal);
        Assert.Contains("1.18", error.Message, StringComparison.Ordinal);
        Assert.Contains("NewCollection", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void In_place_asked_for_an_unnamed_vector_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.19.0", Unnamed(), options: new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace }));
        Assert.Contains("unnamed vector", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void In_place_with_another_full_vector_name_asks_to_configure_that_name()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("embedding", Full())),
            options: new QdrantMigrationOptions { Path = QdrantMigrationPath.InPlace, SourceVectorName = "embedding" }));
        Assert.Contains("FullVectorName = \"embedding\"", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Auto_with_another_full_vector_name_renames_it_by_copying()
    {
        var plan = Plan("1.19.0", Named(("embedding", Full())), options: new QdrantMigrationOptions { SourceVectorName = "embedding", Alias = "docs-live" });

        Assert.Equal(QdrantMigrationPath.NewCollection, plan.Path);
        Assert.Equal("embedding", plan.SourceVectorName);
        Assert.Equal("docs-live", plan.StoreCollection);
        Assert.Contains(plan.Notes, n => n.Contains("Alias 'docs-live' is new", StringComparison.Ordinal));
        using var switchAlias = JsonDocument.Parse(plan.Requests[^1].Body!);
        Assert.Single(switchAlias.RootElement.GetProperty("actions").EnumerateArray());
    }

    [SkippableFact]
    public void Server_too_old_for_the_store_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.9.0", Unnamed()));
        Assert.Contains("1.10", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void New_collection_without_an_alias_is_refused_with_what_to_set()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.17.0", Unnamed()));
        Assert.Contains("QdrantMigrationOptions.Alias", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Alias_with_the_name_of_the_source_collection_is_refused()
    {
        Assert.Throws<QdrantMigrationException>(() => Plan("1.17.0", Unnamed(), options: new QdrantMigrationOptions { Alias = "docs" }));
    }

    [SkippableFact]
    public void Vector_of_the_wrong_size_or_distance_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("full", new QdrantVectorInfo(768, "Dot")))));
        Assert.Contains("768 dimensions and distance Dot", error.Message, StringComparison.Ordinal);
        Assert.Contains("32 dimensions and Cosine", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Missing_source_vector_is_refused_listing_the_names()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("text", Full()), ("image", Full()))));
        Assert.Contains("'text', 'image'", error.Message, StringComparison.Ordinal);
        Assert.Contains("SourceVectorName", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Copy_that_would_drop_other_vectors_is_refused()
    {
        var source = Named(("full", Full()), ("title", new QdrantVectorInfo(8, "Cosine"))) with { SparseVectorNames = ["bm25"] };
        var error = Assert.Throws<QdrantMigrationException>(() =>
            Plan("1.17.0", source, options: new QdrantMigrationOptions { Alias = "docs-live" }));
        Assert.Contains("'title', sparse 'bm25'", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Collection_that_already_has_the_prefix_vector_is_only_backfilled_even_on_1_17()
    {
        var plan = Plan("1.17.0", Named(("full", Full(m: 0)), ("prefix", new QdrantVectorInfo(8, "Cosine"))),
            options: new QdrantMigrationOptions { ResumeFrom = QdrantPointId.FromNumber(5000) });

        Assert.Equal(QdrantMigrationPath.InPlace, plan.Path);
        Assert.Equal(["POST /collections/docs/points/scroll", "PUT /collections/docs/points/vectors?wait=true"], plan.Requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.Contains("\"offset\":5000", plan.Requests[0].Body, StringComparison.Ordinal);
        Assert.DoesNotContain(plan.Notes, n => n.Contains("HNSW graph", StringComparison.Ordinal));
        AssertRequestsMatchSpec(plan, "1.17.0");
    }

    [SkippableFact]
    public void Existing_prefix_vector_of_another_shape_is_refused()
    {
        var error = Assert.Throws<QdrantMigrationException>(() => Plan("1.19.0", Named(("full", Full()), ("prefix", new QdrantVectorInfo(16, "Cosine")))));
        Assert.Contains("PrefixVectorName", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
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

        Assert.Equal(["POST /collections/docs/points/scroll", "PUT /collections/docs-v1-mrl/points?wait=true", "POST /collections/aliases"],
            plan.Requests.Select(r => $"{r.Method} {r.Path}"));
    }

    [SkippableFact]
    public void Existing_target_of_another_shape_is_refused()
    {
        var state = new QdrantServerState(new Version(1, 17, 0), Unnamed() with { Name = "docs", CollectionName = "docs-v1" },
            Unnamed() with { Name = "docs-v1-mrl", CollectionName = "docs-v1-mrl" }, new Dictionary<string, string> { ["docs"] = "docs-v1" });

        var error = Assert.Throws<QdrantMigrationException>(() => QdrantMigrationPlan.Create(state, Samples.Options(), new QdrantMigrationOptions()));
        Assert.Contains("docs-v1-mrl", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Dry_run_text_names_the_path_every_request_and_its_body()
    {
        var plan = Plan("1.19.0", Named(("full", Full())) with { PointsCount = 1000 });

        var text = plan.ToString();

        Assert.Contains("Qdrant 1.19.0: add the prefix vector to 'docs' in place, from vector 'full' (~1000 points).", text, StringComparison.Ordinal);
        Assert.Contains("PUT /collections/docs/vectors/prefix?wait=true", text, StringComparison.Ordinal);
        Assert.Contains("""{"dense":{"size":8,"distance":"Cosine"}}""", text, StringComparison.Ordinal);
        Assert.Contains("~4 pages of 256 points", text, StringComparison.Ordinal);
        Assert.Contains("""{"limit":256,"with_payload":false,"with_vector":["full"]}""", text, StringComparison.Ordinal);
        Assert.Contains("Note: ", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.ApiKey, text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void The_same_state_and_options_give_the_same_plan()
    {
        var first = Plan("1.17.0", Unnamed(), options: new QdrantMigrationOptions { Alias = "docs-live" });
        var second = Plan("1.17.0", Unnamed(), options: new QdrantMigrationOptions { Alias = "docs-live" });
        Assert.Equal(first.ToString(), second.ToString());
        Assert.Equal(first.Requests, second.Requests);
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

    private static void AssertRequestsMatchSpec(QdrantMigrationPlan plan, string version)
    {
        var minor = string.Join('.', version.Split('.').Take(2));
        var spec = QdrantSpecs.Get(minor);
        foreach (var request in plan.Requests)
        {
            // A per-page write has no body until the points are read; the executor's tests check those bodies.
            var problems = request is { Body: null, Note: not null }
                ? spec.ValidateRoute(request.Method, request.Path.TrimStart('/'))
                : spec.ValidateRequest(request.Method, request.Path.TrimStart('/'), request.Body);
            Assert.True(problems.Count == 0, $"{request.Method} {request.Path} against {minor}: {string.Join("\n", problems)}");
        }
    }
}
