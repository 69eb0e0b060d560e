using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// One collection kept in memory behind a <see cref="FakeQdrantHandler"/>, answering in the shapes of Qdrant's OpenAPI
/// document: create, upsert, retrieve, count, query and delete. Count and query evaluate filters with
/// <see cref="QdrantFilterModel"/>; query ranks by insertion order, not by similarity. It lets a flow run and a count
/// be compared with the in-memory store; it is not Qdrant and proves nothing about a server.
/// </summary>
internal sealed class FakeQdrantCollection
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (JsonObject? Payload, JsonObject Vectors)> _points = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _payloadSchema = new(StringComparer.Ordinal);
    private readonly EmbeddingLayout _layout;
    private bool _exists;

    /// <param name="handler">Where the routes go.</param>
    /// <param name="layout">The layout the collection reports when asked (vectors <c>prefix</c> and <c>full</c>).</param>
    /// <param name="name">The collection name; its routes use the name as the store escapes it into the path.</param>
    /// <param name="exists">Whether it exists before the first create.</param>
    public FakeQdrantCollection(FakeQdrantHandler handler, EmbeddingLayout layout, string name = "docs", bool exists = true)
    {
        _layout = layout;
        _exists = exists;
        Path = "/collections/" + Uri.EscapeDataString(name);
        handler.On("GET", "/", QdrantAnswers.Version("1.19.0"))
            .On("GET", Path, _ => Locked(Describe))
            .On("PUT", Path, _ => Locked(() =>
            {
                _exists = true;
                return (HttpStatusCode.OK, QdrantAnswers.True());
            }))
            .On("PUT", Path + "/index", r => Locked(() => CreateIndex(r)))
            .On("PUT", Path + "/points", r => Locked(() => Upsert(r)))
            .On("POST", Path + "/points", r => Locked(() => Retrieve(r)))
            .On("POST", Path + "/points/count", r => Locked(() => Count(r)))
            .On("POST", Path + "/points/query", r => Locked(() => Query(r)))
            .On("POST", Path + "/points/delete", r => Locked(() => Delete(r)));
    }

    /// <summary>The collection's path as the requests carry it, e.g. <c>/collections/docs</c>.</summary>
    public string Path { get; }

    /// <summary>How many points it holds.</summary>
    public int PointCount
    {
        get
        {
            lock (_lock)
            {
                return _points.Count;
            }
        }
    }

    /// <summary>Payload indexes it reports as existing, keyed as Qdrant writes key paths.</summary>
    public void AddPayloadIndex(string keyPath, string type)
    {
        lock (_lock)
        {
            _payloadSchema[keyPath] = type;
        }
    }

    private (HttpStatusCode, string) Locked(Func<(HttpStatusCode, string)> answer)
    {
        lock (_lock)
        {
            return answer();
        }
    }

    private (HttpStatusCode, string) Describe()
    {
        if (!_exists)
        {
            return (HttpStatusCode.NotFound, QdrantAnswers.Error("Not found: Collection doesn't exist!"));
        }

        var distance = QdrantDistance.For(_layout.Metric);
        var schema = new JsonObject();
        foreach (var (keyPath, type) in _payloadSchema)
        {
            schema[keyPath] = QdrantAnswers.PayloadIndex(type, _points.Count);
        }

        return (HttpStatusCode.OK, QdrantAnswers.Collection(
            QdrantAnswers.Named(("prefix", QdrantAnswers.Vector(_layout.PrefixDimensions, distance)), ("full", QdrantAnswers.Vector(_layout.FullDimensions, distance, m: 0))),
            _points.Count, schema));
    }

    private (HttpStatusCode, string) CreateIndex(RecordedRequest request)
    {
        var body = JsonNode.Parse(request.Body!)!;
        _payloadSchema[(string)body["field_name"]!] = (string)body["field_schema"]!;
        return (HttpStatusCode.OK, QdrantAnswers.Completed());
    }

    private (HttpStatusCode, string) Upsert(RecordedRequest request)
    {
        foreach (var point in JsonNode.Parse(request.Body!)!["points"]!.AsArray())
        {
            _points[point!["id"]!.ToJsonString()] = (point["payload"]?.DeepClone().AsObject(), point["vector"]!.DeepClone().AsObject());
        }

        return (HttpStatusCode.OK, QdrantAnswers.Completed());
    }

    private (HttpStatusCode, string) Retrieve(RecordedRequest request)
    {
        var body = JsonNode.Parse(request.Body!)!;
        var records = new List<JsonObject>();
        foreach (var id in body["ids"]!.AsArray())
        {
            if (_points.TryGetValue(id!.ToJsonString(), out var point))
            {
                var payload = body["with_payload"]?.GetValue<bool>() == true ? point.Payload?.DeepClone().AsObject() : null;
                records.Add(QdrantAnswers.Record(id.DeepClone(), payload, Vectors(body["with_vector"], point.Vectors)));
            }
        }

        return (HttpStatusCode.OK, QdrantAnswers.Records([.. records]));
    }

    private (HttpStatusCode, string) Count(RecordedRequest request)
    {
        using var body = JsonDocument.Parse(request.Body!);
        return (HttpStatusCode.OK, QdrantAnswers.Count(Matching(body.RootElement).Length));
    }

    private (HttpStatusCode, string) Query(RecordedRequest request)
    {
        using var body = JsonDocument.Parse(request.Body!);
        var limit = body.RootElement.GetProperty("limit").GetInt32();
        var withVector = JsonNode.Parse(body.RootElement.GetProperty("with_vector").GetRawText());
        var points = Matching(body.RootElement)
            .Take(limit)
            .Select((p, i) => QdrantAnswers.ScoredPoint(JsonNode.Parse(p.Key)!, 1.0 - i * 0.001, p.Value.Payload?.DeepClone().AsObject(), Vectors(withVector, p.Value.Vectors)))
            .ToArray();
        return (HttpStatusCode.OK, QdrantAnswers.Query(points));
    }

    private (HttpStatusCode, string) Delete(RecordedRequest request)
    {
        foreach (var id in JsonNode.Parse(request.Body!)!["points"]!.AsArray())
        {
            _points.Remove(id!.ToJsonString());
        }

        return (HttpStatusCode.OK, QdrantAnswers.Completed());
    }

    private KeyValuePair<string, (JsonObject? Payload, JsonObject Vectors)>[] Matching(JsonElement body)
    {
        if (!body.TryGetProperty("filter", out var filter))
        {
            return _points.ToArray();
        }

        return _points.Where(p =>
        {
            using var payload = JsonDocument.Parse(p.Value.Payload?.ToJsonString() ?? "{}");
            return QdrantFilterModel.Matches(filter, payload.RootElement);
        }).ToArray();
    }

    // with_vector is false or a list of vector names.
    private static JsonObject? Vectors(JsonNode? withVector, JsonObject stored)
    {
        if (withVector is not JsonArray names)
        {
            return null;
        }

        var vectors = new JsonObject();
        foreach (var name in names)
        {
            if (stored[(string)name!] is { } vector)
            {
                vectors[(string)name!] = vector.DeepClone();
            }
        }

        return vectors;
    }
}
