using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The store's calls through a real <see cref="QdrantClient"/> to an in-process fake gRPC server with scripted answers.
/// These are contract tests of what the store sends (as the client's own messages) and how it reads the answers; they
/// do not replace a Qdrant server. Every call the store makes here is also checked against Qdrant 1.19's gRPC surface.
/// </summary>
public sealed class StoreFlowTests : IDisposable
{
    private readonly FakeQdrantServer _qdrant = new();
    private readonly QdrantClient _client;

    public StoreFlowTests() => _client = _qdrant.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _qdrant.Dispose();
    }

    [Fact]
    public async Task Upsert_sends_both_vectors_with_wait_and_the_api_key()
    {
        _qdrant.On("qdrant.Points/Upsert", _ => FakeQdrantCollection.Completed());
        var records = Samples.Records(i => (long)i, 3);

        await Store<long>().UpsertAsync(records);

        var call = Assert.Single(_qdrant.Calls);
        Assert.Equal("qdrant.Points/Upsert", call.Method);
        Assert.Equal(Samples.ApiKey, call.ApiKey);
        var upsert = call.As<Proto.UpsertPoints>();
        Assert.Equal("docs", upsert.CollectionName);
        Assert.True(upsert.Wait);
        var point = upsert.Points[2];
        Assert.Equal(2ul, point.Id.Num);
        Assert.Equal(Samples.Layout().ToPrefix(records[2].Vector.Span), point.Vectors.Vectors_.Vectors["prefix"].Dense.Data);
        Assert.Equal(records[2].Vector.ToArray(), point.Vectors.Vectors_.Vectors["full"].Dense.Data);
        Assert.Equal(2, point.Payload["rank"].IntegerValue);
        Assert.Equal("c2", point.Payload["category"].StringValue);
        AssertSupportedBy("1.17.0");
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(0f)]
    public async Task Upsert_of_an_invalid_vector_sends_nothing(float spoiler)
    {
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

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => Store<long>().UpsertAsync(records));
        Assert.Contains("record 1", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task Upsert_with_a_negative_long_key_sends_nothing()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store<long>().UpsertAsync(Samples.Records(i => (long)i - 1, 3)));

        Assert.Contains("-1", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task String_keys_are_sent_as_uuids_with_the_key_in_the_payload()
    {
        _qdrant.On("qdrant.Points/Upsert", _ => FakeQdrantCollection.Completed());

        await Store<string>().UpsertAsync(Samples.Records(i => "doc-000" + i, 2));

        var point = Assert.Single(_qdrant.Calls).As<Proto.UpsertPoints>().Points[1];
        Assert.Equal(QdrantKeyMapping.StringKeyToUuid("doc-0001").ToString(), point.Id.Uuid);
        Assert.Equal("doc-0001", point.Payload[QdrantKeyMapping.KeyPayloadField].StringValue);
    }

    [Fact]
    public async Task Guid_keys_are_sent_as_uuids()
    {
        _qdrant.On("qdrant.Points/Upsert", _ => FakeQdrantCollection.Completed());
        var key = Guid.Parse("6f1f6a43-9d7a-4c55-8c1a-1b2c3d4e5f60");

        await Store<Guid>().UpsertAsync(Samples.Records(_ => key, 1));

        Assert.Equal("6f1f6a43-9d7a-4c55-8c1a-1b2c3d4e5f60", Assert.Single(_qdrant.Calls).As<Proto.UpsertPoints>().Points[0].Id.Uuid);
    }

    [Fact]
    public async Task String_key_record_that_uses_the_reserved_payload_field_is_rejected_before_any_call()
    {
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { [QdrantKeyMapping.KeyPayloadField] = "x" });
        var records = Samples.Records(i => "k" + i, 2).Select(r => r with { Payload = payload }).ToArray();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store<string>().UpsertAsync(records));

        Assert.Contains(QdrantKeyMapping.KeyPayloadField, error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task Upsert_is_split_so_that_no_message_exceeds_the_limit()
    {
        _qdrant.On("qdrant.Points/Upsert", _ => FakeQdrantCollection.Completed());
        var options = Samples.Options();
        options.MaxRequestBytes = 4096;
        var records = Samples.Records(i => (long)i, 40);

        await Store<long>(options).UpsertAsync(records);

        var upserts = _qdrant.Calls.Select(c => c.As<Proto.UpsertPoints>()).ToArray();
        Assert.True(upserts.Length > 1);
        Assert.All(upserts, u => Assert.True(u.CalculateSize() <= 4096, $"{u.CalculateSize()} bytes"));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (ulong)i), upserts.SelectMany(u => u.Points).Select(p => p.Id.Num));
    }

    [Fact]
    public async Task Record_larger_than_the_limit_fails_with_a_clear_error_and_sends_nothing()
    {
        var options = Samples.Options(new EmbeddingLayout(512, 8));
        options.MaxRequestBytes = 1024 + 1024;

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store<long>(options).UpsertAsync(Samples.Records(i => (long)i, 2, 512)));

        Assert.Contains("Record 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxRequestBytes", error.Message, StringComparison.Ordinal);
        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task Empty_upsert_sends_nothing()
    {
        await Store<long>().UpsertAsync([]);

        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task Pass_1_queries_the_prefix_for_the_full_vectors_with_hnsw_ef_at_least_the_candidate_count()
    {
        var full = Samples.Vectors(1);
        _qdrant.On("qdrant.Points/Query", _ => Answer(Scored(7, 0.9f, full, ("rank", 7))));
        var filter = Filter.Eq("category", "c1");

        var batch = await ((ICandidateSource<long>)Store<long>()).FetchCandidatesAsync(new CandidateRequest(Samples.Layout().ToPrefix(full), 250, filter, true, null), default);

        var query = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        Assert.Equal("prefix", query.Using);
        Assert.Equal(250ul, query.Limit);
        Assert.Equal(250ul, query.Params.HnswEf);
        Assert.Equal(Samples.Layout().ToPrefix(full), query.Query.Nearest.Dense.Data);
        Assert.Equal(["full"], query.WithVectors.Include.Names);
        Assert.True(query.WithPayload.Enable);
        Assert.Equal("category", query.Filter.Must[0].Field.Key);
        Assert.Equal("c1", query.Filter.Must[0].Field.Match.Keyword);
        Assert.Empty(query.Prefetch);
        var candidate = Assert.Single(batch.Candidates);
        Assert.Equal(7L, candidate.Key);
        Assert.Equal(0.9f, candidate.PrefixScore);
        Assert.Equal(full, candidate.FullVector.ToArray());
        Assert.Equal(7, candidate.Payload!.Value.GetProperty("rank").GetInt32());
        Assert.Equal(32 * sizeof(float), batch.BytesFetched);
        AssertSupportedBy("1.17.0");
    }

    [Fact]
    public async Task Ef_search_above_the_candidate_count_is_sent_as_asked()
    {
        _qdrant.On("qdrant.Points/Query", _ => new Proto.QueryResponse());

        await Store<long>().SearchAsync(Samples.Vectors(1), new SearchOptions { K = 5, Oversampling = 2, EfSearch = 300, Strategy = SearchStrategy.PrefixOnly });

        var query = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        Assert.Equal(300ul, query.Params.HnswEf);
        Assert.Equal(5ul, query.Limit);
        Assert.False(query.WithVectors.Enable);
    }

    [Fact]
    public async Task Two_pass_search_reranks_the_candidates_on_their_full_vectors_in_process()
    {
        var data = Samples.Vectors(3);
        var query = data.AsMemory(64, 32);

        // The prefix scores put 0 first; the full vectors say 2 is the query itself.
        _qdrant.On("qdrant.Points/Query", _ => Answer(
            Scored(0, 0.99f, data.AsSpan(0, 32).ToArray()), Scored(1, 0.98f, data.AsSpan(32, 32).ToArray()), Scored(2, 0.5f, data.AsSpan(64, 32).ToArray())));

        var result = await Store<long>().SearchAsync(query, new SearchOptions { K = 1, Oversampling = 3 });

        Assert.Equal(2L, Assert.Single(result.Hits).Key);
        Assert.Equal(1f, result.Hits[0].Score, 4);
        Assert.Equal(3, result.Diagnostics.CandidatesFetched);
    }

    [Fact]
    public async Task In_database_rerank_sends_one_prefetch_query_and_negates_euclidean_distances()
    {
        _qdrant.On("qdrant.Points/Query", _ => Answer(Scored(4, 2.5f, null)));
        var layout = Samples.Layout(DistanceMetric.Euclidean);
        var query = Samples.Vectors(1);

        var result = await Store<long>(Samples.Options(layout)).SearchAsync(query,
            new SearchOptions { K = 3, Oversampling = 4, Strategy = SearchStrategy.TwoPassInDatabase, Filter = Filter.Range("rank", gte: 2) });

        var call = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        var prefetch = Assert.Single(call.Prefetch);
        Assert.Equal("prefix", prefetch.Using);
        Assert.Equal(12ul, prefetch.Limit);
        Assert.Equal(100ul, prefetch.Params.HnswEf);
        Assert.Equal(layout.ToPrefix(query), prefetch.Query.Nearest.Dense.Data);
        Assert.Equal(2, prefetch.Filter.Must[0].Field.Range.Gte);
        Assert.Equal("full", call.Using);
        Assert.Equal(query, call.Query.Nearest.Dense.Data);
        Assert.Equal(3ul, call.Limit);
        Assert.Equal(prefetch.Filter, call.Filter);
        Assert.False(call.WithVectors.Enable);
        Assert.Equal(-2.5f, Assert.Single(result.Hits).Score);
        Assert.Equal(12, result.Diagnostics.CandidatesFetched);
        Assert.Equal(0, result.Diagnostics.BytesFetched);
        AssertSupportedBy("1.17.0");
    }

    [Fact]
    public async Task Full_dimension_baseline_is_an_exact_scan_of_the_full_vector()
    {
        _qdrant.On("qdrant.Points/Query", _ => Answer(Scored(1, 0.7f, null)));

        var result = await Store<long>().SearchAsync(Samples.Vectors(1), new SearchOptions { K = 2, Strategy = SearchStrategy.FullDimension });

        var call = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        Assert.Equal("full", call.Using);
        Assert.True(call.Params.Exact);
        Assert.Equal(2ul, call.Limit);
        Assert.Empty(call.Prefetch);
        Assert.Equal(SearchStrategy.FullDimension, result.Diagnostics.Strategy);
    }

    [Fact]
    public async Task Read_consistency_goes_with_every_read()
    {
        _qdrant.On("qdrant.Points/Query", _ => new Proto.QueryResponse())
            .On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 1 } })
            .On("qdrant.Points/Get", _ => new Proto.GetResponse());
        var options = Samples.Options();
        options.ReadConsistency = new Proto.ReadConsistency { Type = Proto.ReadConsistencyType.Majority };
        var store = Store<long>(options);

        await store.SearchAsync(Samples.Vectors(1), new SearchOptions { K = 1 });
        await store.SearchAsync(Samples.Vectors(1), new SearchOptions { K = 1, Strategy = SearchStrategy.TwoPassInDatabase });
        await store.CountAsync();
        await store.GetAsync(1);
        await store.DeleteAsync([1]);

        Assert.Equal(5, _qdrant.Calls.Count);
        Assert.All(_qdrant.Calls, c => Assert.Equal(Proto.ReadConsistencyType.Majority,
            ((Proto.ReadConsistency)c.Request.Descriptor.FindFieldByName("read_consistency").Accessor.GetValue(c.Request)).Type));
    }

    [Fact]
    public async Task Invalid_query_sends_nothing()
    {
        var query = Samples.Vectors(1);
        query[3] = float.NaN;

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store<long>().SearchAsync(query, new SearchOptions { K = 3 }));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store<long>().SearchAsync(query, new SearchOptions { K = 3, Strategy = SearchStrategy.TwoPassInDatabase }));
        Assert.Empty(_qdrant.Calls);
    }

    [Fact]
    public async Task Delete_removes_only_the_points_that_exist_and_counts_them()
    {
        _qdrant.On<Proto.GetPoints>("qdrant.Points/Get", r => new Proto.GetResponse { Result = { new Proto.RetrievedPoint { Id = r.Ids[1] } } })
            .On("qdrant.Points/Delete", _ => FakeQdrantCollection.Completed());

        var deleted = await Store<long>().DeleteAsync([5, 6, 6, -1]);

        Assert.Equal(1, deleted);
        Assert.Equal(["qdrant.Points/Get", "qdrant.Points/Delete"], _qdrant.MethodNames);
        var get = _qdrant.Calls[0].As<Proto.GetPoints>();
        Assert.Equal([5ul, 6ul], get.Ids.Select(i => i.Num));
        Assert.False(get.WithPayload.Enable);
        Assert.False(get.WithVectors.Enable);
        var delete = _qdrant.Calls[1].As<Proto.DeletePoints>();
        Assert.Equal([6ul], delete.Points.Points.Ids.Select(i => i.Num));
        Assert.True(delete.Wait);
        AssertSupportedBy("1.17.0");
    }

    [Fact]
    public async Task Delete_of_keys_that_do_not_exist_sends_no_delete()
    {
        _qdrant.On("qdrant.Points/Get", _ => new Proto.GetResponse());

        Assert.Equal(0, await Store<long>().DeleteAsync([1, 2]));
        Assert.Equal(["qdrant.Points/Get"], _qdrant.MethodNames);
    }

    [Fact]
    public async Task Get_of_a_string_key_returns_the_record_without_the_reserved_field()
    {
        var full = Samples.Vectors(1);
        _qdrant.On<Proto.GetPoints>("qdrant.Points/Get", r =>
        {
            var point = new Proto.RetrievedPoint { Id = r.Ids[0], Vectors = Output(full) };
            point.Payload[QdrantKeyMapping.KeyPayloadField] = new Proto.Value { StringValue = "doc-1" };
            point.Payload["title"] = new Proto.Value { StringValue = "One" };
            return new Proto.GetResponse { Result = { point } };
        });

        var record = await Store<string>().GetAsync("doc-1");

        Assert.NotNull(record);
        Assert.Equal("doc-1", record.Key);
        Assert.Equal(full, record.Vector.ToArray());
        Assert.Equal("""{"title":"One"}""", record.Payload!.Value.GetRawText());
        var get = Assert.Single(_qdrant.Calls).As<Proto.GetPoints>();
        Assert.Equal(QdrantKeyMapping.StringKeyToUuid("doc-1").ToString(), get.Ids[0].Uuid);
        Assert.Equal(["full"], get.WithVectors.Include.Names);
    }

    [Fact]
    public async Task Get_of_a_missing_or_impossible_key_returns_null()
    {
        _qdrant.On("qdrant.Points/Get", _ => new Proto.GetResponse());

        Assert.Null(await Store<long>().GetAsync(3));
        Assert.Null(await Store<long>().GetAsync(-3));
        Assert.Single(_qdrant.Calls);
    }

    [Fact]
    public async Task Count_is_exact_and_filtered()
    {
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 42 } });

        Assert.Equal(42, await Store<long>().CountAsync(Filter.Not(Filter.Eq("draft", true))));

        var count = Assert.Single(_qdrant.Calls).As<Proto.CountPoints>();
        Assert.True(count.Exact);
        Assert.True(count.Filter.MustNot[0].Field.Match.Boolean);
    }

    [Theory]
    [InlineData("1.19.0", true)]
    [InlineData("1.18.0", false)]
    [InlineData("1.17.0", false)]
    public async Task Ensure_schema_creates_a_missing_collection_whose_full_vector_is_cold_without_a_graph(string version, bool memoryField)
    {
        _qdrant.Version = version;
        var collection = new FakeQdrantCollection(_qdrant);
        var options = Samples.Options();
        options.PrefixHnswM = 24;
        options.ShardNumber = 6;
        options.ReplicationFactor = 2;
        options.WriteConsistencyFactor = 2;
        options.PayloadIndexes.Add(new QdrantPayloadIndex("category", QdrantPayloadSchemaType.Keyword));
        options.PayloadIndexes.Add(new QdrantPayloadIndex("with.dot", QdrantPayloadSchemaType.Integer));

        await Store<long>(options).EnsureSchemaAsync();

        Assert.True(collection.Exists);
        Assert.Equal(["qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get", "qdrant.Collections/Create", "qdrant.Points/CreateFieldIndex", "qdrant.Points/CreateFieldIndex"],
            _qdrant.MethodNames);
        var create = _qdrant.Calls[2].As<Proto.CreateCollection>();
        var prefix = create.VectorsConfig.ParamsMap.Map["prefix"];
        var full = create.VectorsConfig.ParamsMap.Map["full"];
        Assert.Equal((8ul, Proto.Distance.Cosine, 24ul), (prefix.Size, prefix.Distance, prefix.HnswConfig.M));
        Assert.Equal((32ul, Proto.Distance.Cosine, 0ul), (full.Size, full.Distance, full.HnswConfig.M));
        Assert.True(full.HnswConfig.HasM);
        Assert.Equal(memoryField, full.HasMemory);
#pragma warning disable CS0612 // The deprecated flag is what 1.17 and 1.18 read.
        Assert.Equal(!memoryField, full.HasOnDisk && full.OnDisk);
#pragma warning restore CS0612
        Assert.Equal((6u, 2u, 2u), (create.ShardNumber, create.ReplicationFactor, create.WriteConsistencyFactor));
        var indexes = _qdrant.Calls.Skip(3).Select(c => c.As<Proto.CreateFieldIndexCollection>()).ToArray();
        Assert.Equal(["category", "\"with.dot\""], indexes.Select(i => i.FieldName));
        Assert.Equal([Proto.FieldType.Keyword, Proto.FieldType.Integer], indexes.Select(i => i.FieldType));
        Assert.All(indexes, i => Assert.True(i.Wait));
        AssertSupportedBy(version);
    }

    [Theory]
    [InlineData(DistanceMetric.Cosine, Proto.Distance.Cosine)]
    [InlineData(DistanceMetric.DotProduct, Proto.Distance.Dot)]
    [InlineData(DistanceMetric.Euclidean, Proto.Distance.Euclid)]
    [InlineData(DistanceMetric.Manhattan, Proto.Distance.Manhattan)]
    public async Task Both_vectors_get_the_distance_of_the_metric(DistanceMetric metric, Proto.Distance distance)
    {
        _ = new FakeQdrantCollection(_qdrant);

        await Store<long>(Samples.Options(Samples.Layout(metric))).EnsureSchemaAsync();

        var create = _qdrant.Calls.Single(c => c.Method == "qdrant.Collections/Create").As<Proto.CreateCollection>();
        Assert.All(create.VectorsConfig.ParamsMap.Map.Values, v => Assert.Equal(distance, v.Distance));
        AssertSupportedBy("1.19.0");
    }

    [Fact]
    public async Task Manhattan_distances_are_negated_and_the_prefix_query_is_not_renormalized()
    {
        _qdrant.On("qdrant.Points/Query", _ => Answer(Scored(4, 2.5f, null), Scored(7, 3f, null)));
        var layout = Samples.Layout(DistanceMetric.Manhattan);
        var query = Samples.Vectors(1);

        var result = await Store<long>(Samples.Options(layout)).SearchAsync(query,
            new SearchOptions { K = 2, Oversampling = 4, Strategy = SearchStrategy.TwoPassInDatabase });

        var call = Assert.Single(_qdrant.Calls).As<Proto.QueryPoints>();
        Assert.Equal(query.AsSpan(0, layout.PrefixDimensions).ToArray(), Assert.Single(call.Prefetch).Query.Nearest.Dense.Data);
        Assert.Equal([-2.5f, -3f], result.Hits.Select(h => h.Score));
        AssertSupportedBy("1.17.0");
    }

    [Fact]
    public async Task Ensure_schema_accepts_a_matching_collection_and_adds_only_missing_indexes()
    {
        _ = new FakeQdrantCollection(_qdrant, vectors: FakeQdrantCollection.StoreVectors(Samples.Layout()));
        var options = Samples.Options();
        options.PayloadIndexes.Add(new QdrantPayloadIndex("rank", QdrantPayloadSchemaType.Integer));
        var store = Store<long>(options);

        await store.EnsureSchemaAsync();
        await store.EnsureSchemaAsync();

        Assert.Equal(["qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get", "qdrant.Points/CreateFieldIndex", "qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get"],
            _qdrant.MethodNames);
        Assert.Equal("rank", _qdrant.Calls[2].As<Proto.CreateFieldIndexCollection>().FieldName);
    }

    [Fact]
    public async Task Ensure_schema_lists_every_difference_of_a_mismatched_collection()
    {
        var map = new Proto.VectorParamsMap();
        map.Map["full"] = new Proto.VectorParams { Size = 768, Distance = Proto.Distance.Dot };
        _ = new FakeQdrantCollection(_qdrant, vectors: new Proto.VectorsConfig { ParamsMap = map });

        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store<long>().EnsureSchemaAsync());

        Assert.Contains("collection 'docs'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'prefix' is missing", error.Message, StringComparison.Ordinal);
        Assert.Contains("768 dimensions; the layout needs 32", error.Message, StringComparison.Ordinal);
        Assert.Contains("distance Dot", error.Message, StringComparison.Ordinal);
        Assert.Contains("QdrantMigrator", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _qdrant.Calls.Count);
    }

    [Fact]
    public async Task Ensure_schema_refuses_a_collection_with_an_unnamed_vector()
    {
        _ = new FakeQdrantCollection(_qdrant, vectors: new Proto.VectorsConfig { Params = new Proto.VectorParams { Size = 32, Distance = Proto.Distance.Cosine } });

        var error = await Assert.ThrowsAsync<SchemaMismatchException>(() => Store<long>().EnsureSchemaAsync());

        Assert.Contains("unnamed vector", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ensure_schema_refuses_a_server_without_the_query_api()
    {
        _qdrant.Version = "1.9.7";

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => Store<long>().EnsureSchemaAsync());

        Assert.Contains("1.9.7", error.Message, StringComparison.Ordinal);
        Assert.Contains("1.10", error.Message, StringComparison.Ordinal);
        Assert.Equal(["qdrant.Qdrant/HealthCheck"], _qdrant.MethodNames);
    }

    [Fact]
    public async Task Ensure_schema_checks_the_collection_another_process_created_first()
    {
        var gets = 0;
        _qdrant.On("qdrant.Collections/Get", _ => ++gets == 1
                ? throw new RpcException(new Status(StatusCode.NotFound, "Collection `docs` doesn't exist!"))
                : new Proto.GetCollectionInfoResponse
                {
                    Result = new Proto.CollectionInfo
                    {
                        Config = new Proto.CollectionConfig { Params = new Proto.CollectionParams { VectorsConfig = FakeQdrantCollection.StoreVectors(Samples.Layout()) } },
                    },
                })
            .Fail("qdrant.Collections/Create", StatusCode.InvalidArgument, "Wrong input: Collection `docs` already exists!");

        await Store<long>().EnsureSchemaAsync();

        Assert.Equal(["qdrant.Qdrant/HealthCheck", "qdrant.Collections/Get", "qdrant.Collections/Create", "qdrant.Collections/Get"], _qdrant.MethodNames);
    }

    [Fact]
    public async Task Server_error_surfaces_its_status_and_detail_and_never_the_api_key()
    {
        _qdrant.Fail("qdrant.Points/Upsert", StatusCode.InvalidArgument, $"Wrong input: Vector dimension error: expected dim: 16, got 32 (key {Samples.ApiKey})");

        var error = await Assert.ThrowsAsync<QdrantException>(() => Store<long>().UpsertAsync(Samples.Records(i => (long)i, 1)));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("Vector dimension error", error.ServerError, StringComparison.Ordinal);
        Assert.Contains("Qdrant Upsert on 'docs' failed with InvalidArgument", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.ApiKey, error.ToString(), StringComparison.Ordinal);
        Assert.Single(_qdrant.Calls);
    }

    [Fact]
    public async Task An_unavailable_server_is_retried_and_other_errors_are_not()
    {
        var counts = 0;
        _qdrant.On("qdrant.Points/Count", _ => ++counts < 3
            ? throw new RpcException(new Status(StatusCode.Unavailable, "connection refused"))
            : new Proto.CountResponse { Result = new Proto.CountResult { Count = 9 } });
        _qdrant.Fail("qdrant.Points/Get", StatusCode.PermissionDenied, "read-only key");
        var store = Store<long>();

        Assert.Equal(9, await store.CountAsync());
        await Assert.ThrowsAsync<QdrantException>(() => store.GetAsync(1));

        Assert.Equal(["qdrant.Points/Count", "qdrant.Points/Count", "qdrant.Points/Count", "qdrant.Points/Get"], _qdrant.MethodNames);
    }

    [Fact]
    public async Task Retries_stop_after_the_configured_attempts()
    {
        _qdrant.Fail("qdrant.Points/Count", StatusCode.Unavailable, "connection refused");
        var options = Samples.Options();
        options.RetryAttempts = 1;

        var error = await Assert.ThrowsAsync<QdrantException>(() => Store<long>(options).CountAsync());

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(2, _qdrant.Calls.Count);
    }

    [Fact]
    public async Task Call_that_outlives_the_timeout_fails_with_a_timeout_exception()
    {
        _qdrant.Delay = TimeSpan.FromSeconds(5);
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult() });
        var options = Samples.Options();
        options.RequestTimeout = TimeSpan.FromMilliseconds(100);

        var error = await Assert.ThrowsAsync<TimeoutException>(() => Store<long>(options).CountAsync());

        Assert.Contains("Count on 'docs'", error.Message, StringComparison.Ordinal);
        Assert.Single(_qdrant.Calls);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_timeout()
    {
        _qdrant.Delay = TimeSpan.FromSeconds(5);
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult() });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store<long>().CountAsync(null, cancel.Token));
    }

    [Fact]
    public void Invalid_options_are_refused_with_every_problem()
    {
        var options = new QdrantStoreOptions { Endpoint = new Uri("ftp://qdrant"), Collection = "a/b", PrefixVectorName = "v", FullVectorName = "v", RetryAttempts = -1 };

        var error = Assert.Throws<ArgumentException>(() => new QdrantAdaptiveStore<long>(_client, options));

        foreach (var expected in new[] { "Endpoint", "Layout", "'a/b'", "must differ", "RetryAttempts" })
        {
            Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        }
    }

    internal static Proto.QueryResponse Answer(params Proto.ScoredPoint[] points)
    {
        var response = new Proto.QueryResponse();
        response.Result.AddRange(points);
        return response;
    }

    internal static Proto.ScoredPoint Scored(ulong id, float score, float[]? full, params (string Name, long Value)[] payload)
    {
        var point = new Proto.ScoredPoint { Id = new Proto.PointId { Num = id }, Score = score };
        if (full is not null)
        {
            point.Vectors = Output(full);
        }

        foreach (var (name, value) in payload)
        {
            point.Payload[name] = new Proto.Value { IntegerValue = value };
        }

        return point;
    }

    internal static Proto.VectorsOutput Output(float[] full) =>
        new() { Vectors = new Proto.NamedVectorsOutput { Vectors = { ["full"] = new Proto.VectorOutput { Dense = new Proto.DenseVector { Data = { full } } } } } };

    private QdrantAdaptiveStore<TKey> Store<TKey>(QdrantStoreOptions? options = null) where TKey : notnull =>
        new(_client, options ?? Samples.Options());

    private void AssertSupportedBy(string version) => ProtoSurface.Of(version).AssertSupports(_qdrant.Calls);
}
