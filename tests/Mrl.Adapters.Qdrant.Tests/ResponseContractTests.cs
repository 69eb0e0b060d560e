using System.Text.Json;
using System.Text.Json.Nodes;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// Contract tests for answers: each sample is first checked against the 200 answer the spec documents for its
/// operation, then parsed the way the store parses a server's answer.
/// </summary>
public sealed class ResponseContractTests
{
    private static readonly float[] Full = Samples.Vectors(1);

    [SkippableFact]
    public void Server_version_is_read_from_version_info()
    {
        var answer = QdrantAnswers.Version("1.19.0");
        AssertDocumented("GET", "/", answer);

        using var document = JsonDocument.Parse(answer);
        Assert.Equal(new Version(1, 19, 0), QdrantResponses.ServerVersion(document.RootElement));
    }

    [SkippableTheory]
    [InlineData("1.19.0", 1, 19, 0)]
    [InlineData("1.18.2-dev", 1, 18, 2)]
    [InlineData("v1.17.1", 1, 17, 1)]
    [InlineData("1.20", 1, 20, 0)]
    public void Version_text_is_parsed(string text, int major, int minor, int patch)
    {
        Assert.Equal(new Version(major, minor, patch), QdrantServerVersion.Parse(text));
    }

    [SkippableFact]
    public void Query_answer_becomes_candidates_with_full_vectors_and_clean_payloads()
    {
        var key = QdrantKeyMapping.StringKeyToUuid("doc-1");
        var answer = QdrantAnswers.Query(
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(key), 0.93, new JsonObject { ["rank"] = 1, [QdrantKeyMapping.KeyPayloadField] = "doc-1" },
                new JsonObject { ["full"] = QdrantAnswers.Floats(Full) }),
            QdrantAnswers.ScoredPoint(QdrantAnswers.Id(QdrantKeyMapping.StringKeyToUuid("doc-2")), 0.5,
                new JsonObject { [QdrantKeyMapping.KeyPayloadField] = "doc-2" }, new JsonObject { ["full"] = QdrantAnswers.Floats(Full) }));
        AssertDocumented("POST", "/collections/docs/points/query", answer);

        using var document = JsonDocument.Parse(answer);
        var result = QdrantResponses.Result(document.RootElement, QdrantRequests.Count("docs", null));
        var candidates = QdrantResponses.Candidates(result, QdrantKeyCodec.For<string>(), DistanceMetric.Cosine, "full", 32, out var bytes);

        Assert.Equal(["doc-1", "doc-2"], candidates.Select(c => c.Key));
        Assert.Equal(0.93f, candidates[0].PrefixScore);
        Assert.Equal(Full, candidates[0].FullVector.ToArray());
        Assert.Equal(1, candidates[0].Payload!.Value.GetProperty("rank").GetInt32());
        Assert.False(candidates[0].Payload!.Value.TryGetProperty(QdrantKeyMapping.KeyPayloadField, out _));
        Assert.Null(candidates[1].Payload);
        Assert.Equal(2 * 32 * sizeof(float), bytes);
    }

    [SkippableFact]
    public void Euclidean_distances_become_negative_scores()
    {
        var answer = QdrantAnswers.Query(QdrantAnswers.ScoredPoint(QdrantAnswers.Id(4), 1.5), QdrantAnswers.ScoredPoint(QdrantAnswers.Id(9), 2.25));
        AssertDocumented("POST", "/collections/docs/points/query", answer);

        using var document = JsonDocument.Parse(answer);
        var hits = QdrantResponses.Hits(document.RootElement.GetProperty("result"), QdrantKeyCodec.For<long>(), DistanceMetric.Euclidean);

        Assert.Equal([4L, 9L], hits.Select(h => h.Key));
        Assert.Equal([-1.5f, -2.25f], hits.Select(h => h.Score));
    }

    [SkippableFact]
    public void Candidate_without_its_full_vector_is_an_error_naming_the_point()
    {
        var answer = QdrantAnswers.Query(QdrantAnswers.ScoredPoint(QdrantAnswers.Id(4), 0.5, vectors: new JsonObject { ["other"] = QdrantAnswers.Floats(Full) }));
        using var document = JsonDocument.Parse(answer);
        var error = Assert.Throws<QdrantException>(() =>
            QdrantResponses.Candidates(document.RootElement.GetProperty("result"), QdrantKeyCodec.For<long>(), DistanceMetric.Cosine, "full", 32, out _));
        Assert.Contains("Point 4", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Full_vector_of_the_wrong_length_is_an_error()
    {
        var answer = QdrantAnswers.Records(QdrantAnswers.Record(QdrantAnswers.Id(4), null, new JsonObject { ["full"] = QdrantAnswers.Floats(Full.AsSpan(0, 31)) }));
        using var document = JsonDocument.Parse(answer);
        Assert.Throws<QdrantException>(() =>
            QdrantResponses.Records(document.RootElement.GetProperty("result"), QdrantKeyCodec.For<long>(), "full", 32));
    }

    [SkippableFact]
    public void Retrieve_answer_becomes_records()
    {
        var id = Guid.NewGuid();
        var answer = QdrantAnswers.Records(QdrantAnswers.Record(QdrantAnswers.Id(id), new JsonObject { ["rank"] = 5 }, new JsonObject { ["full"] = QdrantAnswers.Floats(Full) }));
        AssertDocumented("POST", "/collections/docs/points", answer);

        using var document = JsonDocument.Parse(answer);
        var record = Assert.Single(QdrantResponses.Records(document.RootElement.GetProperty("result"), QdrantKeyCodec.For<Guid>(), "full", 32));
        Assert.Equal(id, record.Key);
        Assert.Equal(Full, record.Vector.ToArray());
        Assert.Equal(5, record.Payload!.Value.GetProperty("rank").GetInt32());
    }

    [SkippableFact]
    public void Empty_payload_comes_back_as_null()
    {
        using var document = JsonDocument.Parse("{}");
        Assert.Null(QdrantResponses.CleanPayload(document.RootElement, removeKeyField: false));
        Assert.Null(QdrantResponses.CleanPayload(null, removeKeyField: true));
    }

    [SkippableFact]
    public void Scroll_page_gives_points_their_vector_and_the_next_offset()
    {
        var named = QdrantAnswers.Scroll(QdrantAnswers.Id(42),
            QdrantAnswers.Record(QdrantAnswers.Id(40), new JsonObject { ["a"] = 1 }, new JsonObject { ["full"] = QdrantAnswers.Floats(Full) }),
            QdrantAnswers.Record(QdrantAnswers.Id(41), null, new JsonObject()));
        var unnamed = QdrantAnswers.Scroll(null, QdrantAnswers.Record(QdrantAnswers.Id(7), null, QdrantAnswers.Floats(Full)));
        AssertDocumented("POST", "/collections/docs/points/scroll", named);
        AssertDocumented("POST", "/collections/docs/points/scroll", unnamed);

        using var first = JsonDocument.Parse(named);
        var (points, next) = QdrantResponses.ScrollPage(first.RootElement.GetProperty("result"), "full", 32);
        Assert.Equal([40UL, 41UL], points.Select(p => p.Id.Number));
        Assert.Equal(Full, points[0].Vector);
        Assert.Null(points[1].Vector);
        Assert.Equal(QdrantPointId.FromNumber(42), next);

        using var last = JsonDocument.Parse(unnamed);
        var (unnamedPoints, end) = QdrantResponses.ScrollPage(last.RootElement.GetProperty("result"), null, 32);
        Assert.Equal(Full, Assert.Single(unnamedPoints).Vector);
        Assert.Null(end);
    }

    [SkippableFact]
    public void Count_and_update_answers_are_read()
    {
        AssertDocumented("POST", "/collections/docs/points/count", QdrantAnswers.Count(42));
        AssertDocumented("PUT", "/collections/docs/points", QdrantAnswers.Completed());
        AssertDocumented("PUT", "/collections/docs/vectors/prefix", QdrantAnswers.Completed());
        AssertDocumented("PUT", "/collections/docs", QdrantAnswers.True());
        AssertDocumented("POST", "/collections/aliases", QdrantAnswers.True());

        using var count = JsonDocument.Parse(QdrantAnswers.Count(42));
        Assert.Equal(42, QdrantResponses.Count(count.RootElement.GetProperty("result")));
        using var completed = JsonDocument.Parse(QdrantAnswers.Completed());
        QdrantResponses.EnsureApplied(completed.RootElement.GetProperty("result"), QdrantRequests.Count("docs", null));
    }

    [SkippableFact]
    public void Update_that_timed_out_waiting_is_an_error()
    {
        var answer = QdrantAnswers.Ok(new JsonObject { ["operation_id"] = 7, ["status"] = "wait_timeout" });
        AssertDocumented("PUT", "/collections/docs/points", answer);

        using var document = JsonDocument.Parse(answer);
        var error = Assert.Throws<QdrantException>(() =>
            QdrantResponses.EnsureApplied(document.RootElement.GetProperty("result"), QdrantRequests.Delete("docs", [QdrantPointId.FromNumber(1)])));
        Assert.Contains("wait_timeout", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Collection_info_with_named_vectors_is_read()
    {
        var answer = QdrantAnswers.Collection(
            QdrantAnswers.Named(("prefix", QdrantAnswers.Vector(8, "Cosine")), ("full", QdrantAnswers.Vector(32, "Cosine", m: 0, onDisk: true))),
            points: 1234,
            payloadSchema: new JsonObject { ["category"] = QdrantAnswers.PayloadIndex("keyword") },
            shards: 3,
            replication: 2);
        AssertDocumented("GET", "/collections/docs", answer);

        using var document = JsonDocument.Parse(answer);
        var info = QdrantResponses.CollectionInfo("docs", "docs", document.RootElement.GetProperty("result"));
        Assert.Null(info.UnnamedVector);
        Assert.Equal(new QdrantVectorInfo(8, "Cosine"), info.NamedVectors["prefix"]);
        Assert.Equal(new QdrantVectorInfo(32, "Cosine", 0, true), info.NamedVectors["full"]);
        Assert.Equal(1234, info.PointsCount);
        Assert.Equal(3, info.ShardNumber);
        Assert.Equal(2, info.ReplicationFactor);
        Assert.Equal("keyword", info.PayloadIndexes["category"]);
    }

    [SkippableFact]
    public void Collection_info_with_an_unnamed_vector_is_read()
    {
        var answer = QdrantAnswers.Collection(QdrantAnswers.Vector(768, "Dot"));
        AssertDocumented("GET", "/collections/docs", answer);

        using var document = JsonDocument.Parse(answer);
        var info = QdrantResponses.CollectionInfo("docs", "docs", document.RootElement.GetProperty("result"));
        Assert.Equal(new QdrantVectorInfo(768, "Dot"), info.UnnamedVector);
        Assert.Empty(info.NamedVectors);
    }

    [SkippableFact]
    public void Alias_list_is_read()
    {
        var answer = QdrantAnswers.Aliases(("docs", "docs-v1"), ("old", "docs-v0"));
        AssertDocumented("GET", "/aliases", answer);

        using var document = JsonDocument.Parse(answer);
        var aliases = QdrantResponses.Aliases(document.RootElement.GetProperty("result"));
        Assert.Equal("docs-v1", aliases["docs"]);
        Assert.Equal(2, aliases.Count);
    }

    [SkippableFact]
    public void Error_body_gives_its_status_error_text()
    {
        var answer = QdrantAnswers.Error("Wrong input: Vector dimension error: expected dim: 8, got 7");
        Assert.Empty(QdrantSpecs.Get("1.19").Validate("ErrorResponse", answer));

        Assert.Equal("Wrong input: Vector dimension error: expected dim: 8, got 7", QdrantTransport.ExtractError(answer));
        Assert.Equal("<html>Bad gateway</html>", QdrantTransport.ExtractError("<html>Bad gateway</html>"));
        Assert.Equal("(empty body)", QdrantTransport.ExtractError(""));
    }

    [SkippableFact]
    public void A_sample_that_strays_from_the_documented_shape_fails_the_check()
    {
        var spec = QdrantSpecs.Get("1.19");
        Assert.NotEmpty(spec.ValidateResponse("POST", "/collections/docs/points/query", """{"result":{"points":[{"id":1,"score":0.5}]},"status":"ok","time":0.1}"""));
        Assert.NotEmpty(spec.ValidateResponse("POST", "/collections/docs/points/count", """{"result":{"total":3},"status":"ok","time":0.1}"""));
    }

    private static void AssertDocumented(string method, string path, string answer)
    {
        var problems = QdrantSpecs.Get("1.19").ValidateResponse(method, path, answer);
        Assert.True(problems.Count == 0, $"{method} {path} answer differs from the spec:\n{string.Join("\n", problems)}\n{answer}");
    }

    [Fact]
    public async Task A_300_MiB_error_body_is_read_only_to_a_bounded_prefix()
    {
        var body = new GeneratedBody("{\"status\":{\"error\":\""u8.ToArray(), (byte)'x', 300L * 1024 * 1024);
        var transport = Transport(new StreamingHandler(System.Net.HttpStatusCode.InternalServerError, body, announceLength: false), QdrantStoreOptions.DefaultMaxResponseBytes);

        var error = await Assert.ThrowsAsync<QdrantException>(() => transport.SendAsync(QdrantRequests.ListCollections(), CancellationToken.None));

        Assert.Equal(System.Net.HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.InRange(error.Message.Length, 100, 2_500);
        Assert.InRange(body.BytesRead, 1, 1024 * 1024);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_answer_over_MaxResponseBytes_fails_with_the_limit_named_and_is_not_read_to_its_end(bool announceLength)
    {
        const long limit = 1024 * 1024;
        var body = new GeneratedBody("{\"result\":\""u8.ToArray(), (byte)'x', 300L * 1024 * 1024);
        var transport = Transport(new StreamingHandler(System.Net.HttpStatusCode.OK, body, announceLength), limit);

        var error = await Assert.ThrowsAsync<QdrantException>(() => transport.SendAsync(QdrantRequests.ListCollections(), CancellationToken.None));

        Assert.Contains("MaxResponseBytes (1048576)", error.Message, StringComparison.Ordinal);
        Assert.InRange(body.BytesRead, 0, 2 * limit);
    }

    [Fact]
    public void MaxResponseBytes_below_one_MiB_is_a_configuration_problem()
    {
        var options = new QdrantStoreOptions { Endpoint = new Uri("http://localhost:6333"), Collection = "docs", Layout = new EmbeddingLayout(8, 4), MaxResponseBytes = 1000 };

        Assert.Contains(options.Problems(), p => p.Contains("MaxResponseBytes", StringComparison.Ordinal));
    }

    private static QdrantTransport Transport(HttpMessageHandler handler, long maxResponseBytes)
    {
        var client = new HttpClient(handler);
        return new QdrantTransport(() => client, new Uri("http://127.0.0.1:6333"), null, TimeSpan.FromSeconds(30), maxResponseBytes,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    /// <summary>Answers every request with one status and a body generated as it is read.</summary>
    private sealed class StreamingHandler(System.Net.HttpStatusCode status, GeneratedBody body, bool announceLength) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new StreamContent(body);
            content.Headers.ContentLength = announceLength ? body.Length : null;
            return Task.FromResult(new HttpResponseMessage(status) { Content = content, RequestMessage = request });
        }
    }

    /// <summary>A prefix, then one byte repeated to <c>length</c>; counts what is read, holds none of it.</summary>
    private sealed class GeneratedBody(byte[] prefix, byte filler, long length) : Stream
    {
        public long BytesRead { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => BytesRead;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - BytesRead);
            for (var i = 0; i < n; i++)
            {
                var position = BytesRead + i;
                buffer[i] = position < prefix.Length ? prefix[position] : filler;
            }

            BytesRead += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
