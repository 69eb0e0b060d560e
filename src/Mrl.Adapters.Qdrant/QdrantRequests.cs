using System.Buffers;
using System.Text.Json;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Every request the adapter sends to Qdrant, built in one place: paths, query strings and JSON bodies. The contract
/// tests validate each body against the component schemas of Qdrant's OpenAPI specification.
/// </summary>
internal static class QdrantRequests
{
    /// <summary>The most point ids one retrieve or delete request carries.</summary>
    public const int MaxIdsPerRequest = 4096;

    /// <summary><c>GET /</c>: the server's title and version (<c>VersionInfo</c>).</summary>
    public static QdrantRequest ServerVersion() => new(HttpMethod.Get, "", null);

    /// <summary><c>GET /collections/{c}</c>: the collection's config (<c>CollectionInfo</c>); aliases resolve.</summary>
    public static QdrantRequest GetCollection(string collection) => new(HttpMethod.Get, CollectionPath(collection), null);

    /// <summary><c>GET /collections</c>: the names of every collection (<c>CollectionsResponse</c>).</summary>
    public static QdrantRequest ListCollections() => new(HttpMethod.Get, "collections", null);

    /// <summary><c>GET /collections/{c}/exists</c>: whether the collection exists (<c>CollectionExistence</c>).</summary>
    public static QdrantRequest CollectionExists(string collection) => new(HttpMethod.Get, CollectionPath(collection) + "/exists", null);

    /// <summary><c>DELETE /collections/{c}</c>: drops the collection and its points.</summary>
    public static QdrantRequest DeleteCollection(string collection) => new(HttpMethod.Delete, CollectionPath(collection), null);

    /// <summary><c>GET /aliases</c>: every alias and the collection it points to.</summary>
    public static QdrantRequest ListAliases() => new(HttpMethod.Get, "aliases", null);

    /// <summary><c>PUT /collections/{c}</c> with a <c>CreateCollection</c> body: the prefix vector with HNSW, the full vector without (m = 0), on disk.</summary>
    public static QdrantRequest CreateCollection(string collection, QdrantCollectionSpec spec) =>
        new(HttpMethod.Put, CollectionPath(collection), Write(spec, static (w, s) =>
        {
            var distance = QdrantDistance.For(s.Metric);
            w.WriteStartObject();
            w.WritePropertyName("vectors");
            w.WriteStartObject();

            w.WritePropertyName(s.PrefixVectorName);
            w.WriteStartObject();
            w.WriteNumber("size", s.PrefixDimensions);
            w.WriteString("distance", distance);
            if (s.PrefixHnswM is not null || s.PrefixHnswEfConstruct is not null)
            {
                w.WritePropertyName("hnsw_config");
                w.WriteStartObject();
                if (s.PrefixHnswM is { } m)
                {
                    w.WriteNumber("m", m);
                }

                if (s.PrefixHnswEfConstruct is { } ef)
                {
                    w.WriteNumber("ef_construct", ef);
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();

            // m = 0: no HNSW graph for the full vector; it is read only to rescore candidates, so it stays cold on disk.
            w.WritePropertyName(s.FullVectorName);
            w.WriteStartObject();
            w.WriteNumber("size", s.FullDimensions);
            w.WriteString("distance", distance);
            w.WritePropertyName("hnsw_config");
            w.WriteStartObject();
            w.WriteNumber("m", 0);
            w.WriteEndObject();
            if (s.UseMemoryPlacement)
            {
                w.WriteString("memory", "cold");
            }
            else
            {
                w.WriteBoolean("on_disk", true);
            }

            w.WriteEndObject();
            w.WriteEndObject();

            WriteOptionalNumber(w, "shard_number", s.ShardNumber);
            WriteOptionalNumber(w, "replication_factor", s.ReplicationFactor);
            WriteOptionalNumber(w, "write_consistency_factor", s.WriteConsistencyFactor);
            w.WriteEndObject();
        }));

    /// <summary>
    /// <c>PUT /collections/{c}/index?wait=true</c> with a <c>CreateFieldIndex</c> body on the top-level payload field
    /// <paramref name="field"/>, written as the same key path filters use, so that a name with a dot is one key, not a path.
    /// </summary>
    public static QdrantRequest CreatePayloadIndex(string collection, string field, QdrantPayloadSchemaType type) =>
        CreatePayloadIndex(collection, QdrantFilterTranslator.KeyPath(field), SchemaTypeName(type));

    /// <summary><c>PUT /collections/{c}/index?wait=true</c> with a <c>CreateFieldIndex</c> body: a key path as Qdrant reads it, the type as Qdrant names it (<c>keyword</c>, ...).</summary>
    public static QdrantRequest CreatePayloadIndex(string collection, string keyPath, string schemaType) =>
        new(HttpMethod.Put, CollectionPath(collection) + "/index?wait=true", Write((keyPath, schemaType), static (w, s) =>
        {
            w.WriteStartObject();
            w.WriteString("field_name", s.keyPath);
            w.WriteString("field_schema", s.schemaType);
            w.WriteEndObject();
        }));

    /// <summary>
    /// <c>PUT /collections/{c}/points?wait=true</c> with <c>PointsList</c> bodies: every point with both named vectors,
    /// in as few requests as fit within <paramref name="maxBytes"/> each.
    /// </summary>
    /// <exception cref="ArgumentException">One point alone does not fit in a request.</exception>
    public static List<QdrantRequest> UpsertPoints(
        string collection, string prefixVectorName, string fullVectorName, IReadOnlyList<QdrantPoint> points, int maxBytes, Func<int, string> describePoint)
    {
        using var items = new JsonItemBuffer();
        foreach (var point in points)
        {
            items.Add((point, prefixVectorName, fullVectorName), static (w, s) => WritePoint(w, s.point, s.prefixVectorName, s.fullVectorName));
        }

        return items.Pack(maxBytes, describePoint)
            .Select(body => new QdrantRequest(HttpMethod.Put, CollectionPath(collection) + "/points?wait=true", body))
            .ToList();
    }

    /// <summary>
    /// <c>PUT /collections/{c}/points/vectors?wait=true</c> with <c>UpdateVectors</c> bodies that set only the prefix
    /// vector of existing points, leaving their other vectors and payload as they are.
    /// </summary>
    /// <exception cref="ArgumentException">One point alone does not fit in a request.</exception>
    public static List<QdrantRequest> UpdatePrefixVectors(
        string collection, string prefixVectorName, IReadOnlyList<QdrantPoint> points, int maxBytes, Func<int, string> describePoint)
    {
        using var items = new JsonItemBuffer();
        foreach (var point in points)
        {
            items.Add((point, prefixVectorName), static (w, s) =>
            {
                w.WriteStartObject();
                w.WritePropertyName("id");
                s.point.Id.WriteTo(w);
                w.WritePropertyName("vector");
                w.WriteStartObject();
                WriteVector(w, s.prefixVectorName, s.point.Prefix.Span);
                w.WriteEndObject();
                w.WriteEndObject();
            });
        }

        return items.Pack(maxBytes, describePoint)
            .Select(body => new QdrantRequest(HttpMethod.Put, CollectionPath(collection) + "/points/vectors?wait=true", body))
            .ToList();
    }

    /// <summary>Pass 1: <c>POST /collections/{c}/points/query</c>, nearest to the prefix, with the full vectors when a rerank follows.</summary>
    public static QdrantRequest QueryPrefix(
        string collection, string prefixVectorName, string? fullVectorName, ReadOnlyMemory<float> prefixQuery, int limit, int hnswEf, Filter? filter) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points/query",
            Write((prefixVectorName, fullVectorName, prefixQuery, limit, hnswEf, filter), static (w, s) =>
            {
                w.WriteStartObject();
                WriteVector(w, "query", s.prefixQuery.Span);
                w.WriteString("using", s.prefixVectorName);
                w.WriteNumber("limit", s.limit);
                WriteHnswEf(w, s.hnswEf);
                WriteFilter(w, s.filter);
                w.WriteBoolean("with_payload", true);
                WriteWithVector(w, s.fullVectorName);
                w.WriteEndObject();
            }));

    /// <summary>
    /// Rerank in the database: <c>POST /collections/{c}/points/query</c> whose <c>prefetch</c> finds the candidates on the
    /// prefix and whose outer query rescores them on the full vector. The filter goes on both stages.
    /// </summary>
    public static QdrantRequest QueryWithRerank(
        string collection, string prefixVectorName, string fullVectorName, ReadOnlyMemory<float> prefixQuery, ReadOnlyMemory<float> fullQuery,
        int candidates, int limit, int hnswEf, Filter? filter) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points/query",
            Write((prefixVectorName, fullVectorName, prefixQuery, fullQuery, candidates, limit, hnswEf, filter), static (w, s) =>
            {
                w.WriteStartObject();
                w.WritePropertyName("prefetch");
                w.WriteStartObject();
                WriteVector(w, "query", s.prefixQuery.Span);
                w.WriteString("using", s.prefixVectorName);
                w.WriteNumber("limit", s.candidates);
                WriteHnswEf(w, s.hnswEf);
                WriteFilter(w, s.filter);
                w.WriteEndObject();

                WriteVector(w, "query", s.fullQuery.Span);
                w.WriteString("using", s.fullVectorName);
                w.WriteNumber("limit", s.limit);
                WriteFilter(w, s.filter);
                w.WriteBoolean("with_payload", true);
                w.WriteBoolean("with_vector", false);
                w.WriteEndObject();
            }));

    /// <summary>
    /// The full-dimension baseline: <c>POST /collections/{c}/points/query</c> on the full vector with <c>params.exact</c>,
    /// a scan of every (filtered) point, since the full vector has no HNSW graph.
    /// </summary>
    public static QdrantRequest QueryExact(string collection, string fullVectorName, ReadOnlyMemory<float> query, int limit, Filter? filter) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points/query",
            Write((fullVectorName, query, limit, filter), static (w, s) =>
            {
                w.WriteStartObject();
                WriteVector(w, "query", s.query.Span);
                w.WriteString("using", s.fullVectorName);
                w.WriteNumber("limit", s.limit);
                w.WritePropertyName("params");
                w.WriteStartObject();
                w.WriteBoolean("exact", true);
                w.WriteEndObject();
                WriteFilter(w, s.filter);
                w.WriteBoolean("with_payload", true);
                w.WriteBoolean("with_vector", false);
                w.WriteEndObject();
            }));

    /// <summary><c>POST /collections/{c}/points/count</c>, exact, with the filter when there is one.</summary>
    public static QdrantRequest Count(string collection, Filter? filter) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points/count", Write(filter, static (w, f) =>
        {
            w.WriteStartObject();
            WriteFilter(w, f);
            w.WriteBoolean("exact", true);
            w.WriteEndObject();
        }));

    /// <summary><c>POST /collections/{c}/points</c> (<c>PointRequest</c>): the points with these ids, with payload, and the full vector when named.</summary>
    public static QdrantRequest Retrieve(string collection, IReadOnlyList<QdrantPointId> ids, string? fullVectorName, bool withPayload) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points", Write((ids, fullVectorName, withPayload), static (w, s) =>
        {
            w.WriteStartObject();
            WriteIds(w, "ids", s.ids);
            w.WriteBoolean("with_payload", s.withPayload);
            WriteWithVector(w, s.fullVectorName);
            w.WriteEndObject();
        }));

    /// <summary><c>POST /collections/{c}/points/delete?wait=true</c> (<c>PointIdsList</c>).</summary>
    public static QdrantRequest Delete(string collection, IReadOnlyList<QdrantPointId> ids) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points/delete?wait=true", Write(ids, static (w, s) =>
        {
            w.WriteStartObject();
            WriteIds(w, "points", s);
            w.WriteEndObject();
        }));

    /// <summary>
    /// <c>POST /collections/{c}/points/scroll</c> (<c>ScrollRequest</c>): one page of points in id order from
    /// <paramref name="offset"/>, with one named vector (or the unnamed one when <paramref name="vectorName"/> is null).
    /// </summary>
    public static QdrantRequest Scroll(string collection, QdrantPointId? offset, int limit, string? vectorName, bool withPayload) =>
        new(HttpMethod.Post, CollectionPath(collection) + "/points/scroll", Write((offset, limit, vectorName, withPayload), static (w, s) =>
        {
            w.WriteStartObject();
            if (s.offset is { } offset)
            {
                w.WritePropertyName("offset");
                offset.WriteTo(w);
            }

            w.WriteNumber("limit", s.limit);
            w.WriteBoolean("with_payload", s.withPayload);
            if (s.vectorName is null)
            {
                w.WriteBoolean("with_vector", true);
            }
            else
            {
                WriteWithVector(w, s.vectorName);
            }

            w.WriteEndObject();
        }));

    /// <summary><c>PUT /collections/{c}/vectors/{name}?wait=true</c> (<c>VectorNameConfig</c>, Qdrant 1.18+): adds a dense named vector in place.</summary>
    public static QdrantRequest CreateVector(string collection, string vectorName, int dimensions, DistanceMetric metric) =>
        new(HttpMethod.Put, CollectionPath(collection) + "/vectors/" + Uri.EscapeDataString(vectorName) + "?wait=true",
            Write((dimensions, metric), static (w, s) =>
            {
                w.WriteStartObject();
                w.WritePropertyName("dense");
                w.WriteStartObject();
                w.WriteNumber("size", s.dimensions);
                w.WriteString("distance", QdrantDistance.For(s.metric));
                w.WriteEndObject();
                w.WriteEndObject();
            }));

    /// <summary>
    /// <c>POST /collections/aliases</c> (<c>ChangeAliasesOperation</c>): points <paramref name="alias"/> at
    /// <paramref name="collection"/> in one atomic change, deleting the alias first when it exists.
    /// </summary>
    public static QdrantRequest SwitchAlias(string alias, string collection, bool aliasExists) =>
        new(HttpMethod.Post, "collections/aliases", Write((alias, collection, aliasExists), static (w, s) =>
        {
            w.WriteStartObject();
            w.WritePropertyName("actions");
            w.WriteStartArray();
            if (s.aliasExists)
            {
                w.WriteStartObject();
                w.WritePropertyName("delete_alias");
                w.WriteStartObject();
                w.WriteString("alias_name", s.alias);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteStartObject();
            w.WritePropertyName("create_alias");
            w.WriteStartObject();
            w.WriteString("collection_name", s.collection);
            w.WriteString("alias_name", s.alias);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }));

    /// <summary>The Qdrant name of a payload index type.</summary>
    public static string SchemaTypeName(QdrantPayloadSchemaType type) => type switch
    {
        QdrantPayloadSchemaType.Keyword => "keyword",
        QdrantPayloadSchemaType.Integer => "integer",
        QdrantPayloadSchemaType.Float => "float",
        QdrantPayloadSchemaType.Bool => "bool",
        QdrantPayloadSchemaType.Datetime => "datetime",
        QdrantPayloadSchemaType.Uuid => "uuid",
        QdrantPayloadSchemaType.Text => "text",
        QdrantPayloadSchemaType.Geo => "geo",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown payload index type."),
    };

    private static string CollectionPath(string collection) => "collections/" + Uri.EscapeDataString(collection);

    private static void WritePoint(Utf8JsonWriter w, QdrantPoint point, string prefixVectorName, string fullVectorName)
    {
        w.WriteStartObject();
        w.WritePropertyName("id");
        point.Id.WriteTo(w);
        w.WritePropertyName("vector");
        w.WriteStartObject();

        // A migrated point whose full vector is missing or has no normalizable prefix is copied without that vector.
        if (!point.Prefix.IsEmpty)
        {
            WriteVector(w, prefixVectorName, point.Prefix.Span);
        }

        if (!point.Full.IsEmpty)
        {
            WriteVector(w, fullVectorName, point.Full.Span);
        }

        w.WriteEndObject();
        if (point.Payload is not null || point.StoredKey is not null)
        {
            w.WritePropertyName("payload");
            w.WriteStartObject();
            if (point.Payload is { ValueKind: JsonValueKind.Object } payload)
            {
                foreach (var property in payload.EnumerateObject())
                {
                    property.WriteTo(w);
                }
            }

            if (point.StoredKey is { } key)
            {
                w.WriteString(QdrantKeyMapping.KeyPayloadField, key);
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteVector(Utf8JsonWriter w, string name, ReadOnlySpan<float> vector)
    {
        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var value in vector)
        {
            w.WriteNumberValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteIds(Utf8JsonWriter w, string name, IReadOnlyList<QdrantPointId> ids)
    {
        w.WritePropertyName(name);
        w.WriteStartArray();
        foreach (var id in ids)
        {
            id.WriteTo(w);
        }

        w.WriteEndArray();
    }

    private static void WriteWithVector(Utf8JsonWriter w, string? vectorName)
    {
        if (vectorName is null)
        {
            w.WriteBoolean("with_vector", false);
            return;
        }

        w.WritePropertyName("with_vector");
        w.WriteStartArray();
        w.WriteStringValue(vectorName);
        w.WriteEndArray();
    }

    private static void WriteHnswEf(Utf8JsonWriter w, int hnswEf)
    {
        w.WritePropertyName("params");
        w.WriteStartObject();
        w.WriteNumber("hnsw_ef", hnswEf);
        w.WriteEndObject();
    }

    private static void WriteFilter(Utf8JsonWriter w, Filter? filter)
    {
        if (filter is not null)
        {
            w.WritePropertyName("filter");
            QdrantFilterTranslator.WriteFilter(w, filter);
        }
    }

    private static void WriteOptionalNumber(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }

    private static ReadOnlyMemory<byte> Write<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer, state);
        }

        return buffer.WrittenMemory;
    }
}
