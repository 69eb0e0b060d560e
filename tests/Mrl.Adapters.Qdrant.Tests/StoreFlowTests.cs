using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The store's request/response flow against an in-process fake HTTP handler with scripted answers. These are
/// contract tests of what the store sends and how it reads what comes back; they do not replace a Qdrant server.
/// Every request the store sends here is also checked against the 1.19 spec.
/// </summary>
public sealed class StoreFlowTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();

    public void Dispose() => _qdrant.Dispose();

    [Fact]
    public async Task Upsert_sends_both_vectors_with_wait_true_and_the_api_key()
    {
        _qdrant.On("PUT", "/collections/docs/points", QdrantAnswers.Completed());
        var store = Store<long>();
        var records = Samples.Records(i => (long)i, 3);

        await store.UpsertAsync(records);

        var request = Assert.Single(_qdrant.Requests);
        Assert.Equal("PUT /collections/docs/points?wait=true", request.ToString());
        Assert.Equal(Samples.ApiKey, request.ApiKey);
        Assert.Equal("application/json", request.ContentType);
        AssertMatchesSpec();
        using var body = JsonDocument.Parse(request.Body!);
        var point = body.RootElement.GetProperty("points")[2];
        Assert.Equal(2, point.GetProperty("id").GetInt64());
        var prefix = point.GetProperty("vector").GetProperty("prefix").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(Samples.Layout().ToPrefix(records[2].Vector.Span), prefix);
        Assert.Equal(32, point.GetProperty("vector").GetProperty("full").GetArrayLength());
        Assert.Equal(2, point.GetProperty("payload").GetProperty("rank").GetInt32());
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(0f)]
    public async Task Upsert_of_an_invalid_vector_sends_no_request(float spoiler)
    {
        var store = Store<long>();
        var records = Samples.Records(i => (long)i, 3).ToArray();
        var bad = records[1].Vector.ToArray();
        if (spoiler == 0f)
        {
            Array.Clear(bad);
        }
        else
        {
            bad[5] = spoiler;
        }

        records[1] = records[1] with { Vector = bad };

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => store.UpsertAsync(records));
        Assert.Contains("record 1", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Requests);
    }

    [Fact]
    public async Task Upsert_with_a_negative_long_key_sends_no_request()
    {
        var store = Store<long>();
        var records = Samples.Records(i => (long)i - 1, 3);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(records));
        Assert.Contains("-1", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Requests);
    }

    [Fact]
    public async Task String_keys_are_sent_as_uuids_with_the_key_in_the_payload()
    {
        _qdrant.On("PUT", "/collections/docs/points", QdrantAnswers.Completed());
        var store = Store<string>();

        await store.UpsertAsync(Samples.Records(i => "doc-" + i, 2));

        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        var point = body.RootElement.GetProperty("points")[1];
        Assert.Equal(QdrantKeyMapping.StringKeyToUuid("doc-1"), point.GetProperty("id").GetGuid());
        Assert.Equal("doc-1", point.GetProperty("payload").GetProperty(QdrantKeyMapping.KeyPayloadField).GetString());
        AssertMatchesSpec();
    }

    [Fact]
    public async Task String_key_record_that_uses_the_reserved_payload_field_is_rejected_before_any_request()
    {
        var store = Store<string>();
        var record = Samples.Records(i => "doc-" + i, 1)[0] with
        {
            Payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { [QdrantKeyMapping.KeyPayloadField] = "x" }),
        };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync([record]));
        Assert.Contains(QdrantKeyMapping.KeyPayloadField, error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Requests);
    }

    [Fact]
    public async Task Upsert_is_split_so_that_no_request_exceeds_the_limit()
    {
        _qdrant.On("PUT", "/collections/docs/points", QdrantAnswers.Completed());
        var options = Samples.Options();
        options.MaxRequestBytes = 4096;
        var store = Store<long>(options);
        var records = Samples.Records(i => (long)i, 60);

        await store.UpsertAsync(records);

        var requests = _qdrant.Requests;
        Assert.True(requests.Count > 1, "60 records of ~800 bytes should need several requests of at most 4096 bytes.");
        Assert.All(requests, r => Assert.True(System.Text.Encoding.UTF8.GetByteCount(r.Body!) <= 4096, $"{r.Body!.Length} bytes"));
        var ids = requests.SelectMany(r => JsonDocument.Parse(r.Body!).RootElement.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("id").GetInt64()));
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), ids);
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Record_larger_than_the_limit_fails_with_a_clear_error_and_sends_nothing()
    {
        var options = Samples.Options();
        options.MaxRequestBytes = 4096;
        var store = Store<long>(options);
        var records = Samples.Records(i => (long)i, 3).ToArray();
        records[2] = records[2] with { Payload = JsonSerializer.SerializeToElement(new { text = new string('x', 5000) }) };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAsync(records));
        Assert.Contains("Record 2 (position 2)", error.Message, StringComparison.Ordinal);
        Assert.Contains("4096", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Requests);
    }

    [Fact]
    public async Task Empty_upsert_sends_nothing()
    {
        await Store<long>().UpsertAsync([]);
        Assert.Empty(_qdrant.Requests);
    }

    [Fact]
    public async Task Pass_1_asks_for_the_full_vectors_with_hnsw_ef_at_least_the_candidate_count()
    {
        var full = Samples.Vectors(2);
        _qdrant.On("POST", "/collections/docs/points/query", QdrantAnswers.Query(
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(3), 0.9, new JsonObject { ["rank"] = 3 }, new JsonObject { ["full"] = QdrantAnswers.Floats(full.AsSpan(0, 32)) }),
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(5), 0.8, null, new JsonObject { ["full"] = QdrantAnswers.Floats(full.AsSpan(32, 32)) })));
        var store = Store<long>();
        var filter = Filter.Eq("category", "c1");

        var batch = await store.FetchCandidatesAsync(new CandidateRequest(new float[8], 80, filter, true, EfSearch: 20), CancellationToken.None);

        Assert.Equal([3L, 5L], batch.Candidates.Select(c => c.Key));
        Assert.Equal(full.AsSpan(32, 32).ToArray(), batch.Candidates[1].FullVector.ToArray());
        Assert.Equal(2 * 32 * sizeof(float), batch.BytesFetched);
        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.Equal("prefix", body.RootElement.GetProperty("using").GetString());
        Assert.Equal(80, body.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal(80, body.RootElement.GetProperty("params").GetProperty("hnsw_ef").GetInt32());
        Assert.Equal("full", body.RootElement.GetProperty("with_vector")[0].GetString());
        Assert.Equal("c1", body.RootElement.GetProperty("filter").GetProperty("must")[0].GetProperty("match").GetProperty("value").GetString());
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Two_pass_search_reranks_the_candidates_on_their_full_vectors_in_process()
    {
        var layout = Samples.Layout();
        var data = Samples.Vectors(3);
        var query = data.AsMemory(64, 32);
        // Pass 1 ranks record 0 first on the prefix; the full vectors say record 2 (the query itself) is best.
        _qdrant.On("POST", "/collections/docs/points/query", QdrantAnswers.Query(
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(0), 0.99, null, new JsonObject { ["full"] = QdrantAnswers.Floats(data.AsSpan(0, 32)) }),
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(1), 0.98, null, new JsonObject { ["full"] = QdrantAnswers.Floats(data.AsSpan(32, 32)) }),
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(2), 0.97, null, new JsonObject { ["full"] = QdrantAnswers.Floats(data.AsSpan(64, 32)) })));
        var store = Store<long>();

        var result = await store.SearchAsync(query, new SearchOptions { K = 2, Oversampling = 2 });

        Assert.Equal(2L, result.Hits[0].Key);
        Assert.Equal(1f, result.Hits[0].Score, 4);
        Assert.Equal("two-pass", result.Diagnostics.Strategy);
        Assert.Equal(3, result.Diagnostics.CandidatesFetched);
        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.Equal(4, body.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal(layout.ToPrefix(query.Span), body.RootElement.GetProperty("query").EnumerateArray().Select(v => v.GetSingle()).ToArray());
    }

    [Fact]
    public async Task Prefix_only_search_asks_for_no_vectors()
    {
        _qdrant.On("POST", "/collections/docs/points/query", QdrantAnswers.Query(QdrantAnswers.ScoredPoint(QdrantAnswers.Id(1), 0.5)));
        var store = Store<long>();

        var result = await store.SearchAsync(Samples.Vectors(1), new SearchOptions { K = 5, Rerank = Rerank.None });

        Assert.Equal("prefix", result.Diagnostics.Strategy);
        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.False(body.RootElement.GetProperty("with_vector").GetBoolean());
        Assert.Equal(5, body.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal(100, body.RootElement.GetProperty("params").GetProperty("hnsw_ef").GetInt32());
    }

    [Fact]
    public async Task In_database_rerank_sends_one_prefetch_query_and_negates_euclidean_distances()
    {
        _qdrant.On("POST", "/collections/docs/points/query", QdrantAnswers.Query(
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(7), 0.25, new JsonObject { ["rank"] = 7 }),
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(8), 0.5)));
        var store = Store<long>(Samples.Options(Samples.Layout(DistanceMetric.Euclidean)));

        var result = await store.SearchAsync(Samples.Vectors(1), new SearchOptions { K = 2, Oversampling = 10, Rerank = Rerank.InDatabase, Filter = Filter.Eq("even", true) });

        Assert.Equal([7L, 8L], result.Hits.Select(h => h.Key));
        Assert.Equal([-0.25f, -0.5f], result.Hits.Select(h => h.Score));
        Assert.Equal("two-pass-db", result.Diagnostics.Strategy);
        Assert.Equal(20, result.Diagnostics.CandidatesFetched);
        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.Equal(20, body.RootElement.GetProperty("prefetch").GetProperty("limit").GetInt32());
        Assert.Equal(2, body.RootElement.GetProperty("limit").GetInt32());
        Assert.Equal("full", body.RootElement.GetProperty("using").GetString());
        Assert.True(body.RootElement.GetProperty("prefetch").TryGetProperty("filter", out _));
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Full_dimension_baseline_is_an_exact_scan_of_the_full_vector()
    {
        _qdrant.On("POST", "/collections/docs/points/query", QdrantAnswers.Query(QdrantAnswers.ScoredPoint(QdrantAnswers.Id(1), 1.0)));
        var store = Store<long>();

        var result = await store.SearchAsync(Samples.Vectors(1), new SearchOptions { K = 3, FullDimensionBaseline = true });

        Assert.Equal("full", result.Diagnostics.Strategy);
        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.True(body.RootElement.GetProperty("params").GetProperty("exact").GetBoolean());
        Assert.Equal("full", body.RootElement.GetProperty("using").GetString());
        Assert.Equal(32, body.RootElement.GetProperty("query").GetArrayLength());
    }

    [Fact]
    public async Task Invalid_query_sends_no_request()
    {
        var store = Store<long>();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.SearchAsync(new float[32], new SearchOptions()));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.SearchAsync(new float[31], new SearchOptions { Rerank = Rerank.InDatabase }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.SearchAsync(new float[32], new SearchOptions { FullDimensionBaseline = true }));
        Assert.Empty(_qdrant.Requests);
    }

    [Fact]
    public async Task Delete_removes_only_the_points_that_exist_and_counts_them()
    {
        _qdrant.On("POST", "/collections/docs/points", QdrantAnswers.Records(
            QdrantAnswers.Record(QdrantAnswers.Id(3), null, null), QdrantAnswers.Record(QdrantAnswers.Id(4), null, null)));
        _qdrant.On("POST", "/collections/docs/points/delete", QdrantAnswers.Completed());
        var store = Store<long>();

        var deleted = await store.DeleteAsync([3, 4, 9999, 3, -5]);

        Assert.Equal(2, deleted);
        var requests = _qdrant.Requests;
        Assert.Equal(2, requests.Count);
        using var retrieve = JsonDocument.Parse(requests[0].Body!);
        Assert.Equal([3L, 4L, 9999L], retrieve.RootElement.GetProperty("ids").EnumerateArray().Select(i => i.GetInt64()));
        Assert.Equal("POST /collections/docs/points/delete?wait=true", requests[1].ToString());
        using var delete = JsonDocument.Parse(requests[1].Body!);
        Assert.Equal([3L, 4L], delete.RootElement.GetProperty("points").EnumerateArray().Select(i => i.GetInt64()));
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Delete_of_keys_that_do_not_exist_sends_no_delete()
    {
        _qdrant.On("POST", "/collections/docs/points", QdrantAnswers.Records());
        Assert.Equal(0, await Store<long>().DeleteAsync([1, 2]));
        Assert.Single(_qdrant.Requests);
    }

    [Fact]
    public async Task Get_of_a_string_key_returns_the_record_without_the_reserved_field()
    {
        var full = Samples.Vectors(1);
        var id = QdrantKeyMapping.StringKeyToUuid("doc-3");
        _qdrant.On("POST", "/collections/docs/points", QdrantAnswers.Records(QdrantAnswers.Record(QdrantAnswers.Id(id),
            new JsonObject { ["rank"] = 3, [QdrantKeyMapping.KeyPayloadField] = "doc-3" }, new JsonObject { ["full"] = QdrantAnswers.Floats(full) })));
        var store = Store<string>();

        var record = await store.GetAsync("doc-3");

        Assert.NotNull(record);
        Assert.Equal("doc-3", record.Key);
        Assert.Equal(full, record.Vector.ToArray());
        Assert.Equal("""{"rank":3}""", record.Payload!.Value.GetRawText());
        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.Equal(id, body.RootElement.GetProperty("ids")[0].GetGuid());
        Assert.Equal("full", body.RootElement.GetProperty("with_vector")[0].GetString());
    }

    [Fact]
    public async Task Get_of_a_missing_or_impossible_key_returns_null()
    {
        _qdrant.On("POST", "/collections/docs/points", QdrantAnswers.Records());
        var store = Store<long>();
        Assert.Null(await store.GetAsync(5));
        Assert.Null(await store.GetAsync(-5));
        Assert.Single(_qdrant.Requests);
    }

    [Fact]
    public async Task Count_is_exact_and_filtered()
    {
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Count(17));
        var store = Store<long>();

        Assert.Equal(17, await store.CountAsync(Filter.Range("rank", gte: 3)));

        using var body = JsonDocument.Parse(Assert.Single(_qdrant.Requests).Body!);
        Assert.True(body.RootElement.GetProperty("exact").GetBoolean());
        Assert.Equal(3, body.RootElement.GetProperty("filter").GetProperty("must")[0].GetProperty("range").GetProperty("gte").GetDouble());
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Ensure_schema_creates_a_missing_collection_and_its_payload_indexes()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/collections/docs", QdrantAnswers.Error("Not found: Collection `docs` doesn't exist!"), HttpStatusCode.NotFound)
            .On("PUT", "/collections/docs", QdrantAnswers.True())
            .On("PUT", "/collections/docs/index", QdrantAnswers.Completed());
        var options = Samples.Options();
        options.PayloadIndexes.Add(new QdrantPayloadIndex("category", QdrantPayloadSchemaType.Keyword));
        options.PayloadIndexes.Add(new QdrantPayloadIndex("created", QdrantPayloadSchemaType.Datetime));
        options.ShardNumber = 2;

        await Store<long>(options).EnsureSchemaAsync();

        Assert.Equal(
            ["GET /", "GET /collections/docs", "PUT /collections/docs", "PUT /collections/docs/index?wait=true", "PUT /collections/docs/index?wait=true"],
            _qdrant.Requests.Select(r => r.ToString()));
        using var create = JsonDocument.Parse(_qdrant.Requests[2].Body!);
        Assert.Equal("cold", create.RootElement.GetProperty("vectors").GetProperty("full").GetProperty("memory").GetString());
        Assert.Equal(2, create.RootElement.GetProperty("shard_number").GetInt32());
        Assert.Contains("\"datetime\"", _qdrant.Requests[4].Body, StringComparison.Ordinal);
        AssertMatchesSpec();
    }

    [Fact]
    public async Task Ensure_schema_on_qdrant_1_17_writes_on_disk_instead_of_memory()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.17.1"))
            .On("GET", "/collections/docs", QdrantAnswers.Error("Not found"), HttpStatusCode.NotFound)
            .On("PUT", "/collections/docs", QdrantAnswers.True());

        await Store<long>().EnsureSchemaAsync();

        using var create = JsonDocument.Parse(_qdrant.Requests[2].Body!);
        Assert.True(create.RootElement.GetProperty("vectors").GetProperty("full").GetProperty("on_disk").GetBoolean());
        var problems = QdrantSpecs.TryGet("1.17")?.ValidateRequest("PUT", _qdrant.Requests[2].Path, _qdrant.Requests[2].Body) ?? [];
        Assert.Empty(problems);
    }

    [Fact]
    public async Task Ensure_schema_accepts_a_matching_collection_and_adds_only_missing_indexes()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/collections/docs", QdrantAnswers.Collection(
                QdrantAnswers.Named(("prefix", QdrantAnswers.Vector(8, "Cosine")), ("full", QdrantAnswers.Vector(32, "Cosine", m: 0))),
                payloadSchema: new JsonObject { ["category"] = QdrantAnswers.PayloadIndex("keyword") }))
            .On("PUT", "/collections/docs/index", QdrantAnswers.Completed());
        var options = Samples.Options();
        options.PayloadIndexes.Add(new QdrantPayloadIndex("category", QdrantPayloadSchemaType.Keyword));
        options.PayloadIndexes.Add(new QdrantPayloadIndex("rank", QdrantPayloadSchemaType.Integer));

        await Store<long>(options).EnsureSchemaAsync();

        Assert.Equal(["GET /", "GET /collections/docs", "PUT /collections/docs/index?wait=true"], _qdrant.Requests.Select(r => r.ToString()));
        Assert.Contains("\"rank\"", _qdrant.Requests[2].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ensure_schema_lists_every_difference_of_a_mismatched_collection()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/collections/docs", QdrantAnswers.Collection(
                QdrantAnswers.Named(("full", QdrantAnswers.Vector(768, "Dot")), ("title", QdrantAnswers.Vector(8, "Cosine")))));

        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store<long>().EnsureSchemaAsync());

        Assert.Contains("collection 'docs'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'prefix' is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("768 dimensions; the layout needs 32", error.Message, StringComparison.Ordinal);
        Assert.Contains("distance Dot", error.Message, StringComparison.Ordinal);
        Assert.Contains("QdrantMigrator", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _qdrant.Requests.Count);
    }

    [Fact]
    public async Task Ensure_schema_refuses_a_collection_with_an_unnamed_vector()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/collections/docs", QdrantAnswers.Collection(QdrantAnswers.Vector(32, "Cosine")));

        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store<long>().EnsureSchemaAsync());
        Assert.Contains("unnamed vector", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ensure_schema_refuses_a_server_without_the_query_api()
    {
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.9.7"));
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => Store<long>().EnsureSchemaAsync());
        Assert.Contains("1.9.7", error.Message, StringComparison.Ordinal);
        Assert.Contains("1.10", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ensure_schema_checks_the_collection_another_process_created_first()
    {
        var created = false;
        _qdrant.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", "/collections/docs", _ => created
                ? (HttpStatusCode.OK, QdrantAnswers.Collection(QdrantAnswers.Named(("prefix", QdrantAnswers.Vector(8, "Cosine")), ("full", QdrantAnswers.Vector(32, "Cosine", m: 0)))))
                : (HttpStatusCode.NotFound, QdrantAnswers.Error("Not found")))
            .On("PUT", "/collections/docs", _ =>
            {
                created = true;
                return (HttpStatusCode.Conflict, QdrantAnswers.Error("Wrong input: Collection `docs` already exists!"));
            });

        await Store<long>().EnsureSchemaAsync();

        Assert.Equal(["GET /", "GET /collections/docs", "PUT /collections/docs", "GET /collections/docs"], _qdrant.Requests.Select(r => r.ToString()));
    }

    [Fact]
    public async Task Server_error_surfaces_its_status_error_text_and_never_the_api_key()
    {
        _qdrant.On("PUT", "/collections/docs/points",
            QdrantAnswers.Error($"Wrong input: Vector dimension error: expected dim: 8, got 7 (api-key {Samples.ApiKey})"), HttpStatusCode.BadRequest);
        var store = Store<long>();

        var error = await Assert.ThrowsAsync<QdrantException>(() => store.UpsertAsync(Samples.Records(i => (long)i, 1)));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("Vector dimension error", error.ServerError, StringComparison.Ordinal);
        Assert.Contains("PUT /collections/docs/points?wait=true failed with 400", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.ApiKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.ApiKey, error.ServerError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_that_outlives_the_timeout_fails_with_a_timeout_exception()
    {
        _qdrant.Delay = TimeSpan.FromSeconds(5);
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Count(1));
        var options = Samples.Options();
        options.RequestTimeout = TimeSpan.FromMilliseconds(100);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Store<long>(options).CountAsync());
        Assert.Contains("POST /collections/docs/points/count", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_timeout()
    {
        _qdrant.Delay = TimeSpan.FromSeconds(5);
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Count(1));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store<long>().CountAsync(null, cancel.Token));
    }

    [Fact]
    public async Task Endpoint_with_a_path_prefix_keeps_it()
    {
        _qdrant.On("POST", "/qdrant/collections/docs/points/count", QdrantAnswers.Count(2));
        var options = Samples.Options();
        options.Endpoint = new Uri("https://proxy.test/qdrant");

        Assert.Equal(2, await Store<long>(options).CountAsync());
        Assert.Equal("POST /qdrant/collections/docs/points/count", Assert.Single(_qdrant.Requests).ToString());
    }

    [Fact]
    public void Invalid_options_are_refused_with_every_problem()
    {
        var options = new QdrantStoreOptions
        {
            Endpoint = new Uri("ftp://qdrant.test"),
            Collection = "",
            PrefixVectorName = "v",
            FullVectorName = "v",
            MaxRequestBytes = 64 * 1024 * 1024,
            ShardNumber = 0,
        };

        var error = Assert.Throws<ArgumentException>(() => new QdrantAdaptiveStore<long>(_qdrant.Client(), options));

        foreach (var expected in new[] { "http or https", "Layout", "Collection", "must differ", "MaxRequestBytes", "ShardNumber" })
        {
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }

    private QdrantAdaptiveStore<TKey> Store<TKey>(QdrantStoreOptions? options = null) where TKey : notnull =>
        new(_qdrant.Client(), options ?? Samples.Options());

    private void AssertMatchesSpec()
    {
        foreach (var request in _qdrant.Requests)
        {
            var problems = QdrantSpecs.TryGet("1.19")?.ValidateRequest(request.Method, request.Path, request.Body) ?? [];
            Assert.True(problems.Count == 0, $"{request}: {string.Join("\n", problems)}");
        }
    }
}
