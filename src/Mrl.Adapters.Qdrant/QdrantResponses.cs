using System.Text.Json;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Reads Qdrant's answers in the shapes its OpenAPI specification documents: <c>{"result": ..., "status": "ok", "time": ...}</c>
/// around a <c>QueryResponse</c>, <c>Record</c> list, <c>ScrollResult</c>, <c>CountResult</c>, <c>UpdateResult</c> or <c>CollectionInfo</c>.
/// </summary>
internal static class QdrantResponses
{
    /// <summary>The <c>result</c> of an answer.</summary>
    /// <exception cref="QdrantException">The answer has no result.</exception>
    public static JsonElement Result(JsonElement root, QdrantRequest request)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("result", out var result) && result.ValueKind != JsonValueKind.Null)
        {
            return result;
        }

        throw new QdrantException($"Qdrant {request} answered without a result: {Shorten(root.GetRawText())}");
    }

    /// <summary>The server version from <c>GET /</c> (<c>VersionInfo</c>, not wrapped in a result).</summary>
    public static Version ServerVersion(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String)
        {
            return QdrantServerVersion.Parse(version.GetString()!);
        }

        throw new QdrantException($"GET / did not report a Qdrant version: {Shorten(root.GetRawText())}");
    }

    /// <summary>The <c>count</c> of a <c>CountResult</c>.</summary>
    public static long Count(JsonElement result) =>
        result.ValueKind == JsonValueKind.Object && result.TryGetProperty("count", out var count) && count.ValueKind == JsonValueKind.Number && count.TryGetInt64(out var n)
            ? n
            : throw new QdrantException($"Qdrant's count answer has no count: {Shorten(result.GetRawText())}");

    /// <summary>Checks that an <c>UpdateResult</c> says the write was applied, as <c>wait=true</c> asks.</summary>
    /// <exception cref="QdrantException">The server gave up waiting (<c>wait_timeout</c>) or sent no status.</exception>
    public static void EnsureApplied(JsonElement result, QdrantRequest request)
    {
        // Collection-level operations answer "result": true rather than an UpdateResult.
        if (result.ValueKind == JsonValueKind.True)
        {
            return;
        }

        var status = result.ValueKind == JsonValueKind.Object && result.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
            ? s.GetString()
            : null;
        if (status is not ("completed" or "acknowledged"))
        {
            throw new QdrantException(
                $"Qdrant {request} was not applied: the server answered status '{status ?? "(none)"}'. With wait=true a write is applied before the answer; " +
                "'wait_timeout' means the server gave up waiting, and the write may still be applied later.");
        }
    }

    /// <summary>The points of a <c>QueryResponse</c> as candidates, scores made higher-is-better, with full vectors when asked for.</summary>
    public static List<Candidate<TKey>> Candidates<TKey>(
        JsonElement result, QdrantKeyCodec<TKey> codec, DistanceMetric metric, string? fullVectorName, int fullDimensions, out long vectorBytes)
        where TKey : notnull
    {
        var points = Points(result);
        var candidates = new List<Candidate<TKey>>(points.GetArrayLength());
        vectorBytes = 0;
        foreach (var point in points.EnumerateArray())
        {
            var id = QdrantPointId.Read(Property(point, "id"));
            var payload = RawPayload(point);
            var key = codec.FromPoint(id, payload);
            var score = QdrantDistance.ToScore(metric, Property(point, "score").GetSingle());
            var full = ReadOnlyMemory<float>.Empty;
            if (fullVectorName is not null)
            {
                full = Vector(point, fullVectorName, fullDimensions)
                       ?? throw new QdrantException($"Point {id} came without its '{fullVectorName}' vector; it cannot be reranked.");
                vectorBytes += (long)full.Length * sizeof(float);
            }

            candidates.Add(new Candidate<TKey>(key, score, full, CleanPayload(payload, codec.StoresKeyInPayload)));
        }

        return candidates;
    }

    /// <summary>The points of a <c>QueryResponse</c> as hits.</summary>
    public static SearchHit<TKey>[] Hits<TKey>(JsonElement result, QdrantKeyCodec<TKey> codec, DistanceMetric metric) where TKey : notnull
    {
        var points = Points(result);
        var hits = new SearchHit<TKey>[points.GetArrayLength()];
        var i = 0;
        foreach (var point in points.EnumerateArray())
        {
            var id = QdrantPointId.Read(Property(point, "id"));
            var payload = RawPayload(point);
            hits[i++] = new SearchHit<TKey>(
                codec.FromPoint(id, payload),
                QdrantDistance.ToScore(metric, Property(point, "score").GetSingle()),
                CleanPayload(payload, codec.StoresKeyInPayload));
        }

        return hits;
    }

    /// <summary>The <c>Record</c>s of a retrieve answer (a JSON array) as vector records.</summary>
    public static List<VectorRecord<TKey>> Records<TKey>(JsonElement result, QdrantKeyCodec<TKey> codec, string fullVectorName, int fullDimensions)
        where TKey : notnull
    {
        if (result.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantException($"Qdrant's retrieve answer is not a list of points: {Shorten(result.GetRawText())}");
        }

        var records = new List<VectorRecord<TKey>>(result.GetArrayLength());
        foreach (var point in result.EnumerateArray())
        {
            var id = QdrantPointId.Read(Property(point, "id"));
            var payload = RawPayload(point);
            var full = Vector(point, fullVectorName, fullDimensions)
                       ?? throw new QdrantException($"Point {id} has no '{fullVectorName}' vector.");
            records.Add(new VectorRecord<TKey>(codec.FromPoint(id, payload), full, CleanPayload(payload, codec.StoresKeyInPayload)));
        }

        return records;
    }

    /// <summary>The ids in a retrieve answer.</summary>
    public static List<QdrantPointId> Ids(JsonElement result)
    {
        if (result.ValueKind != JsonValueKind.Array)
        {
            throw new QdrantException($"Qdrant's retrieve answer is not a list of points: {Shorten(result.GetRawText())}");
        }

        return result.EnumerateArray().Select(p => QdrantPointId.Read(Property(p, "id"))).ToList();
    }

    /// <summary>One page of a <c>ScrollResult</c>: each point with the requested vector (null when the point lacks it) and payload.</summary>
    public static (List<ScrolledPoint> Points, QdrantPointId? NextOffset) ScrollPage(JsonElement result, string? vectorName, int dimensions)
    {
        var points = Points(result);
        var page = new List<ScrolledPoint>(points.GetArrayLength());
        foreach (var point in points.EnumerateArray())
        {
            var id = QdrantPointId.Read(Property(point, "id"));
            var payload = RawPayload(point);
            page.Add(new ScrolledPoint(id, Vector(point, vectorName, dimensions), payload?.Clone()));
        }

        QdrantPointId? next = result.TryGetProperty("next_page_offset", out var offset) && offset.ValueKind != JsonValueKind.Null
            ? QdrantPointId.Read(offset)
            : null;
        return (page, next);
    }

    /// <summary>The collection names of <c>GET /collections</c>.</summary>
    public static List<string> CollectionNames(JsonElement result)
    {
        if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("collections", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            return list.EnumerateArray().Select(c => Property(c, "name").GetString()!).ToList();
        }

        throw new QdrantException($"Qdrant's collection list has no collections: {Shorten(result.GetRawText())}");
    }

    /// <summary>The answer of <c>GET /collections/{c}/exists</c>.</summary>
    public static bool Exists(JsonElement result) =>
        result.ValueKind == JsonValueKind.Object && result.TryGetProperty("exists", out var exists) && exists.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? exists.GetBoolean()
            : throw new QdrantException($"Qdrant's existence answer has no 'exists': {Shorten(result.GetRawText())}");

    /// <summary>The alias-to-collection map of <c>GET /aliases</c>.</summary>
    public static Dictionary<string, string> Aliases(JsonElement result)
    {
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("aliases", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (var alias in list.EnumerateArray())
            {
                aliases[Property(alias, "alias_name").GetString()!] = Property(alias, "collection_name").GetString()!;
            }

            return aliases;
        }

        throw new QdrantException($"Qdrant's alias list has no aliases: {Shorten(result.GetRawText())}");
    }

    /// <summary>A <c>CollectionInfo</c> as <see cref="QdrantCollectionInfo"/>.</summary>
    public static QdrantCollectionInfo CollectionInfo(string name, string collectionName, JsonElement result)
    {
        var parameters = Property(Property(result, "config"), "params");
        QdrantVectorInfo? unnamed = null;
        var named = new Dictionary<string, QdrantVectorInfo>(StringComparer.Ordinal);
        if (parameters.TryGetProperty("vectors", out var vectors) && vectors.ValueKind == JsonValueKind.Object)
        {
            if (vectors.TryGetProperty("size", out _) && vectors.TryGetProperty("distance", out _))
            {
                unnamed = VectorInfo(vectors);
            }
            else
            {
                foreach (var vector in vectors.EnumerateObject())
                {
                    named[vector.Name] = VectorInfo(vector.Value);
                }
            }
        }

        var sparse = parameters.TryGetProperty("sparse_vectors", out var sparseVectors) && sparseVectors.ValueKind == JsonValueKind.Object
            ? sparseVectors.EnumerateObject().Select(p => p.Name).ToArray()
            : [];

        var indexes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (result.TryGetProperty("payload_schema", out var schema) && schema.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in schema.EnumerateObject())
            {
                if (field.Value.TryGetProperty("data_type", out var type) && type.ValueKind == JsonValueKind.String)
                {
                    indexes[field.Name] = type.GetString()!;
                }
            }
        }

        return new QdrantCollectionInfo
        {
            Name = name,
            CollectionName = collectionName,
            UnnamedVector = unnamed,
            NamedVectors = named,
            SparseVectorNames = sparse,
            ShardNumber = OptionalInt(parameters, "shard_number") ?? 1,
            ReplicationFactor = OptionalInt(parameters, "replication_factor") ?? 1,
            WriteConsistencyFactor = OptionalInt(parameters, "write_consistency_factor") ?? 1,
            PointsCount = result.TryGetProperty("points_count", out var count) && count.ValueKind == JsonValueKind.Number && count.TryGetInt64(out var n) ? n : null,
            PayloadIndexes = indexes,
        };
    }

    /// <summary>
    /// A payload as the store returns it: null when absent or empty, without <see cref="QdrantKeyMapping.KeyPayloadField"/>
    /// when the key type keeps its key there, and detached from the response document.
    /// </summary>
    public static JsonElement? CleanPayload(JsonElement? payload, bool removeKeyField)
    {
        if (payload is not { ValueKind: JsonValueKind.Object } p)
        {
            return null;
        }

        var hasKeyField = removeKeyField && p.TryGetProperty(QdrantKeyMapping.KeyPayloadField, out _);
        var kept = 0;
        foreach (var property in p.EnumerateObject())
        {
            if (!hasKeyField || property.Name != QdrantKeyMapping.KeyPayloadField)
            {
                kept++;
            }
        }

        if (kept == 0)
        {
            return null;
        }

        if (!hasKeyField)
        {
            return p.Clone();
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in p.EnumerateObject())
            {
                if (property.Name != QdrantKeyMapping.KeyPayloadField)
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static JsonElement? RawPayload(JsonElement point) =>
        point.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object ? payload : null;

    /// <summary>A point's vector: the named one, or the unnamed one when <paramref name="name"/> is null; null when absent.</summary>
    private static float[]? Vector(JsonElement point, string? name, int dimensions)
    {
        if (!point.TryGetProperty("vector", out var vector) || vector.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        JsonElement values;
        if (name is null)
        {
            values = vector;
        }
        else if (vector.ValueKind != JsonValueKind.Object || !vector.TryGetProperty(name, out values))
        {
            return null;
        }

        if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() != dimensions)
        {
            throw new QdrantException(
                $"Qdrant returned a '{name ?? "(unnamed)"}' vector that is not a list of {dimensions} numbers: {Shorten(values.GetRawText())}");
        }

        var result = new float[dimensions];
        var i = 0;
        foreach (var value in values.EnumerateArray())
        {
            result[i++] = value.GetSingle();
        }

        return result;
    }

    private static QdrantVectorInfo VectorInfo(JsonElement vector)
    {
        int? m = vector.TryGetProperty("hnsw_config", out var hnsw) && hnsw.ValueKind == JsonValueKind.Object ? OptionalInt(hnsw, "m") : null;
        bool? onDisk = vector.TryGetProperty("on_disk", out var disk) && disk.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? disk.GetBoolean()
            : null;
        if (vector.TryGetProperty("memory", out var memory) && memory.ValueKind == JsonValueKind.String)
        {
            onDisk = memory.GetString() == "cold";
        }

        return new QdrantVectorInfo(
            OptionalInt(vector, "size") ?? throw new QdrantException($"A vector config has no size: {Shorten(vector.GetRawText())}"),
            Property(vector, "distance") is { ValueKind: JsonValueKind.String } distance
                ? distance.GetString()!
                : throw new QdrantException($"A vector config has no distance name: {Shorten(vector.GetRawText())}"),
            m,
            onDisk);
    }

    private static JsonElement Points(JsonElement result)
    {
        var points = Property(result, "points");
        return points.ValueKind == JsonValueKind.Array
            ? points
            : throw new QdrantException($"Qdrant's answer has no list of points: {Shorten(result.GetRawText())}");
    }

    private static JsonElement Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value
            : throw new QdrantException($"Qdrant's answer lacks '{name}' where its API documents it: {Shorten(element.GetRawText())}");

    private static int? OptionalInt(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) ? n : null;

    private static string Shorten(string text) => text.Length <= 500 ? text : text[..500] + "...";
}

/// <summary>A point read by a scroll: its id, the requested vector (null when the point has none) and its payload.</summary>
internal sealed record ScrolledPoint(QdrantPointId Id, float[]? Vector, JsonElement? Payload);
