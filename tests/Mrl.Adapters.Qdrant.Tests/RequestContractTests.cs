using System.Text.Json;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// Contract tests: every request the adapter builds is checked against Qdrant's OpenAPI documents (operation, query
/// parameters and body schema). They prove the requests are what the spec describes, not that a server accepts them.
/// </summary>
public sealed class RequestContractTests
{
    private static readonly Filter SomeFilter =
        (Filter.Eq("category", "c1") | Filter.In("rank", [1, 2, 3])) & !Filter.DateRange("created", gte: DateTimeOffset.UnixEpoch) & Filter.Range("score", lt: 2.5);

    public static TheoryData<string> Versions => new("1.17", "1.18", "1.19");

    [SkippableTheory]
    [MemberData(nameof(Versions))]
    public void Create_collection_matches_the_spec_of_each_version(string version)
    {
        var options = Samples.Options();
        options.ShardNumber = 3;
        options.ReplicationFactor = 2;
        options.WriteConsistencyFactor = 2;
        options.PrefixHnswM = 32;
        options.PrefixHnswEfConstruct = 200;
        var request = QdrantRequests.CreateCollection("docs", QdrantCollectionSpec.From(options, ServerVersion(version)));

        AssertValid(version, request);
        using var body = JsonDocument.Parse(request.BodyText!);
        var full = body.RootElement.GetProperty("vectors").GetProperty("full");
        Assert.Equal(0, full.GetProperty("hnsw_config").GetProperty("m").GetInt32());
        Assert.Equal(version == "1.19", full.TryGetProperty("memory", out _));
        Assert.Equal(version != "1.19", full.TryGetProperty("on_disk", out _));
        Assert.Equal(3, body.RootElement.GetProperty("shard_number").GetInt32());
    }

    [SkippableTheory]
    [InlineData(DistanceMetric.Cosine, "Cosine")]
    [InlineData(DistanceMetric.DotProduct, "Dot")]
    [InlineData(DistanceMetric.Euclidean, "Euclid")]
    public void Create_collection_gives_both_vectors_the_metric_distance(DistanceMetric metric, string distance)
    {
        var request = QdrantRequests.CreateCollection("docs", QdrantCollectionSpec.From(Samples.Options(Samples.Layout(metric)), new Version(1, 19, 0)));

        AssertValid("1.19", request);
        using var body = JsonDocument.Parse(request.BodyText!);
        var vectors = body.RootElement.GetProperty("vectors");
        Assert.Equal(distance, vectors.GetProperty("prefix").GetProperty("distance").GetString());
        Assert.Equal(8, vectors.GetProperty("prefix").GetProperty("size").GetInt32());
        Assert.Equal(distance, vectors.GetProperty("full").GetProperty("distance").GetString());
        Assert.Equal(32, vectors.GetProperty("full").GetProperty("size").GetInt32());
    }

    [SkippableTheory]
    [InlineData(QdrantPayloadSchemaType.Keyword)]
    [InlineData(QdrantPayloadSchemaType.Integer)]
    [InlineData(QdrantPayloadSchemaType.Float)]
    [InlineData(QdrantPayloadSchemaType.Bool)]
    [InlineData(QdrantPayloadSchemaType.Datetime)]
    [InlineData(QdrantPayloadSchemaType.Uuid)]
    [InlineData(QdrantPayloadSchemaType.Text)]
    [InlineData(QdrantPayloadSchemaType.Geo)]
    public void Create_payload_index_matches_the_spec(QdrantPayloadSchemaType type)
    {
        AssertValid("1.19", QdrantRequests.CreatePayloadIndex("docs", "category", type));
    }

    [SkippableFact]
    public void Upsert_of_numeric_uuid_and_string_key_points_matches_the_spec()
    {
        QdrantPoint[] points =
        [
            Samples.Point(QdrantPointId.FromNumber(0), 1, Samples.Payload(0)),
            // NJsonSchema reads integers above long.MaxValue as BigInteger and cannot validate them; the id writer is covered below.
            Samples.Point(QdrantPointId.FromNumber(long.MaxValue), 2),
            Samples.Point(QdrantPointId.FromUuid(Guid.NewGuid()), 3, Samples.Payload(3)),
            Samples.Point(QdrantPointId.FromUuid(QdrantKeyMapping.StringKeyToUuid("doc-1")), 4, Samples.Payload(4), "doc-1"),
            Samples.Point(QdrantPointId.FromUuid(QdrantKeyMapping.StringKeyToUuid("doc-2")), 5, null, "doc-2"),
        ];
        var requests = QdrantRequests.UpsertPoints("docs", "prefix", "full", points, QdrantStoreOptions.DefaultMaxRequestBytes, i => $"point {i}");

        var request = Assert.Single(requests);
        Assert.Equal("collections/docs/points?wait=true", request.Path);
        AssertValid("1.19", request);
        using var body = JsonDocument.Parse(request.BodyText!);
        var last = body.RootElement.GetProperty("points")[4];
        Assert.Equal("doc-2", last.GetProperty("payload").GetProperty(QdrantKeyMapping.KeyPayloadField).GetString());
        Assert.False(body.RootElement.GetProperty("points")[1].TryGetProperty("payload", out _));
    }

    [SkippableFact]
    public void Largest_numeric_point_id_is_written_as_an_unsigned_integer()
    {
        var request = Assert.Single(QdrantRequests.UpsertPoints("docs", "prefix", "full",
            [Samples.Point(QdrantPointId.FromNumber(ulong.MaxValue), 1)], 1 << 20, i => $"point {i}"));
        Assert.StartsWith("""{"points":[{"id":18446744073709551615,""", request.BodyText, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pass_1_query_matches_the_spec(bool withFullVectors)
    {
        var request = QdrantRequests.QueryPrefix("docs", "prefix", withFullVectors ? "full" : null, new float[8], 80, 100, SomeFilter);

        AssertValid("1.19", request);
        using var body = JsonDocument.Parse(request.BodyText!);
        Assert.Equal("prefix", body.RootElement.GetProperty("using").GetString());
        Assert.Equal(80, body.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal(100, body.RootElement.GetProperty("params").GetProperty("hnsw_ef").GetInt32());
        Assert.True(body.RootElement.GetProperty("with_payload").GetBoolean());
        var withVector = body.RootElement.GetProperty("with_vector");
        if (withFullVectors)
        {
            Assert.Equal("full", Assert.Single(withVector.EnumerateArray()).GetString());
        }
        else
        {
            Assert.False(withVector.GetBoolean());
        }
    }

    [SkippableFact]
    public void In_database_rerank_query_with_prefetch_matches_the_spec()
    {
        var request = QdrantRequests.QueryWithRerank("docs", "prefix", "full", new float[8], new float[32], 80, 10, 100, SomeFilter);

        AssertValid("1.19", request);
        using var body = JsonDocument.Parse(request.BodyText!);
        var prefetch = body.RootElement.GetProperty("prefetch");
        Assert.Equal("prefix", prefetch.GetProperty("using").GetString());
        Assert.Equal(80, prefetch.GetProperty("limit").GetInt32());
        Assert.Equal(8, prefetch.GetProperty("query").GetArrayLength());
        Assert.Equal("full", body.RootElement.GetProperty("using").GetString());
        Assert.Equal(10, body.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal(32, body.RootElement.GetProperty("query").GetArrayLength());
    }

    [SkippableFact]
    public void Exact_full_dimension_query_matches_the_spec()
    {
        var request = QdrantRequests.QueryExact("docs", "full", new float[32], 10, SomeFilter);

        AssertValid("1.19", request);
        using var body = JsonDocument.Parse(request.BodyText!);
        Assert.True(body.RootElement.GetProperty("params").GetProperty("exact").GetBoolean());
        Assert.Equal("full", body.RootElement.GetProperty("using").GetString());
    }

    [SkippableFact]
    public void Count_retrieve_and_delete_match_the_spec()
    {
        QdrantPointId[] ids = [QdrantPointId.FromNumber(1), QdrantPointId.FromUuid(Guid.NewGuid())];
        AssertValid("1.19", QdrantRequests.Count("docs", null));
        AssertValid("1.19", QdrantRequests.Count("docs", SomeFilter));
        AssertValid("1.19", QdrantRequests.Retrieve("docs", ids, "full", withPayload: true));
        AssertValid("1.19", QdrantRequests.Retrieve("docs", ids, null, withPayload: false));
        AssertValid("1.19", QdrantRequests.Delete("docs", ids));
        Assert.Contains("exact", QdrantRequests.Count("docs", null).BodyText, StringComparison.Ordinal);
        Assert.EndsWith("?wait=true", QdrantRequests.Delete("docs", ids).Path, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [MemberData(nameof(Versions))]
    public void Scroll_update_vectors_aliases_and_reads_match_the_spec_of_each_version(string version)
    {
        AssertValid(version, QdrantRequests.Scroll("docs", null, 256, "full", withPayload: false));
        AssertValid(version, QdrantRequests.Scroll("docs", QdrantPointId.FromNumber(1000), 256, null, withPayload: true));
        AssertValid(version, QdrantRequests.Scroll("docs", QdrantPointId.FromUuid(Guid.NewGuid()), 1, "full", withPayload: true));
        AssertValid(version, Assert.Single(QdrantRequests.UpdatePrefixVectors("docs", "prefix",
            [Samples.Point(QdrantPointId.FromNumber(1), 1), Samples.Point(QdrantPointId.FromUuid(Guid.NewGuid()), 2)], 1 << 20, i => $"point {i}")));
        AssertValid(version, QdrantRequests.SwitchAlias("docs", "docs-mrl", aliasExists: true));
        AssertValid(version, QdrantRequests.SwitchAlias("docs", "docs-mrl", aliasExists: false));
        AssertValid(version, QdrantRequests.ServerVersion());
        AssertValid(version, QdrantRequests.GetCollection("docs"));
        AssertValid(version, QdrantRequests.ListAliases());
    }

    [SkippableTheory]
    [InlineData("1.18")]
    [InlineData("1.19")]
    public void Create_vector_in_place_matches_the_spec_from_1_18(string version)
    {
        var request = QdrantRequests.CreateVector("docs", "prefix", 8, DistanceMetric.Cosine);
        Assert.Equal("collections/docs/vectors/prefix?wait=true", request.Path);
        AssertValid(version, request);
    }

    [SkippableFact]
    public void Create_vector_in_place_does_not_exist_in_1_17()
    {
        var spec = QdrantSpecs.Get("1.17");
        Assert.False(spec.HasOperation("PUT", "/collections/{collection_name}/vectors/{vector_name}"));
        Assert.True(QdrantSpecs.Get("1.18").HasOperation("PUT", "/collections/{collection_name}/vectors/{vector_name}"));
        var request = QdrantRequests.CreateVector("docs", "prefix", 8, DistanceMetric.Cosine);
        Assert.NotEmpty(spec.ValidateRequest(request.Method.Method, request.Path, request.BodyText));
    }

    [SkippableFact]
    public void Search_endpoint_is_gone_in_1_19_so_pass_1_uses_query()
    {
        Assert.False(QdrantSpecs.Get("1.19").HasOperation("POST", "/collections/{collection_name}/points/search"));
        Assert.True(QdrantSpecs.Get("1.19").HasOperation("POST", "/collections/{collection_name}/points/query"));
    }

    [SkippableFact]
    public void Collection_names_are_escaped_in_paths()
    {
        var request = QdrantRequests.GetCollection("my docs/v1");
        Assert.Equal("collections/my%20docs%2Fv1", request.Path);
        AssertValid("1.19", request);
    }

    public static TheoryData<string, string, string> WrongBodies => new()
    {
        { "QueryRequest", "limit 0", """{"query":[0.1,0.2],"using":"prefix","limit":0}""" },
        { "QueryRequest", "misspelled property", """{"query":[0.1,0.2],"using":"prefix","with_vectors":["full"]}""" },
        { "QueryRequest", "with_vector as a string", """{"query":[0.1,0.2],"with_vector":"full"}""" },
        { "QueryRequest", "match on a fraction", """{"query":[0.1],"filter":{"must":[{"key":"a","match":{"value":1.5}}]}}""" },
        { "QueryRequest", "unknown filter clause", """{"query":[0.1],"filter":{"must_all":[]}}""" },
        { "QueryRequest", "date bound that is not a date", """{"query":[0.1],"filter":{"must":[{"key":"d","range":{"gte":"yesterday"}}]}}""" },
        { "QueryRequest", "repeated match-any value", """{"query":[0.1],"filter":{"must":[{"key":"a","match":{"any":["x","x"]}}]}}""" },
        { "PointInsertOperations", "negative id", """{"points":[{"id":-1,"vector":{"full":[1.0,2.0]}}]}""" },
        { "PointInsertOperations", "id that is not a uuid", """{"points":[{"id":"doc-1","vector":{"full":[1.0,2.0]}}]}""" },
        { "PointInsertOperations", "point without vector", """{"points":[{"id":1}]}""" },
        { "CreateCollection", "unknown distance", """{"vectors":{"prefix":{"size":8,"distance":"Cosinus"}}}""" },
        { "CreateCollection", "zero size", """{"vectors":{"prefix":{"size":0,"distance":"Cosine"}}}""" },
        { "UpdateVectors", "no points", """{"points":[]}""" },
        { "VectorNameConfig", "dense wrapper missing", """{"size":8,"distance":"Cosine"}""" },
        { "ChangeAliasesOperation", "alias without collection", """{"actions":[{"create_alias":{"alias_name":"docs"}}]}""" },
        { "CountRequest", "exact as a string", """{"exact":"yes"}""" },
    };

    [SkippableTheory]
    [MemberData(nameof(WrongBodies))]
    public void A_deliberately_wrong_body_fails_validation(string schema, string what, string body)
    {
        var errors = QdrantSpecs.Get("1.19").Validate(schema, body);
        Assert.True(errors.Count > 0, $"A body with {what} passed validation against {schema}.");
    }

    [SkippableFact]
    public void A_query_parameter_the_operation_does_not_declare_fails_validation()
    {
        var spec = QdrantSpecs.Get("1.19");
        Assert.NotEmpty(spec.ValidateRequest("PUT", "collections/docs/points?wiat=true", """{"points":[]}"""));
        Assert.NotEmpty(spec.ValidateRequest("PUT", "collections/docs/points/search", null));
    }

    internal static void AssertValid(string version, QdrantRequest request)
    {
        var spec = QdrantSpecs.Get(version);
        var problems = spec.ValidateRequest(request.Method.Method, request.Path, request.BodyText);
        Assert.True(problems.Count == 0, $"{request} against Qdrant {version}:\n{string.Join("\n", problems)}\n{request.BodyText}");
    }

    private static Version ServerVersion(string minor) => Version.Parse(minor + ".0");
}
