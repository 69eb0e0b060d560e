using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>Response bodies shaped as Qdrant's OpenAPI document describes them (the contract tests check that they are).</summary>
internal static class QdrantAnswers
{
    public static string Version(string version) =>
        Json(new JsonObject { ["title"] = "qdrant - vector search engine", ["version"] = version, ["commit"] = "0123456789abcdef" });

    public static string Ok(JsonNode result) => Json(new JsonObject { ["result"] = result, ["status"] = "ok", ["time"] = 0.0012 });

    public static string True() => Ok(JsonValue.Create(true));

    public static string Completed() => Ok(new JsonObject { ["operation_id"] = 7, ["status"] = "completed" });

    public static string Count(long count) => Ok(new JsonObject { ["count"] = count });

    public static string Error(string message) =>
        Json(new JsonObject { ["status"] = new JsonObject { ["error"] = message }, ["time"] = 0.0001 });

    /// <summary>A <c>QueryResponse</c>: each point with id, version, score, payload and (when given) named vectors.</summary>
    public static string Query(params JsonObject[] points) => Ok(new JsonObject { ["points"] = new JsonArray(points) });

    /// <summary>A retrieve answer: a list of <c>Record</c>s.</summary>
    public static string Records(params JsonObject[] points) => Ok(new JsonArray(points));

    public static string Scroll(JsonNode? nextOffset, params JsonObject[] points) =>
        Ok(new JsonObject { ["points"] = new JsonArray(points), ["next_page_offset"] = nextOffset });

    public static string Aliases(params (string Alias, string Collection)[] aliases) =>
        Ok(new JsonObject
        {
            ["aliases"] = new JsonArray(aliases.Select(a => (JsonNode)new JsonObject { ["alias_name"] = a.Alias, ["collection_name"] = a.Collection }).ToArray()),
        });

    public static JsonObject ScoredPoint(JsonNode id, double score, JsonObject? payload = null, JsonObject? vectors = null)
    {
        var point = new JsonObject { ["id"] = id, ["version"] = 3, ["score"] = score, ["payload"] = payload };
        if (vectors is not null)
        {
            point["vector"] = vectors;
        }

        return point;
    }

    public static JsonObject Record(JsonNode id, JsonObject? payload, JsonNode? vector)
    {
        var point = new JsonObject { ["id"] = id, ["payload"] = payload };
        if (vector is not null)
        {
            point["vector"] = vector;
        }

        return point;
    }

    public static JsonArray Floats(ReadOnlySpan<float> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
        {
            array.Add(value);
        }

        return array;
    }

    /// <summary>A <c>CollectionInfo</c>: <paramref name="vectors"/> is the <c>config.params.vectors</c> object (named map or unnamed params).</summary>
    public static string Collection(JsonObject vectors, long points = 1000, JsonObject? payloadSchema = null, int shards = 1, int replication = 1) =>
        Ok(new JsonObject
        {
            ["status"] = "green",
            ["optimizer_status"] = "ok",
            ["indexed_vectors_count"] = points,
            ["points_count"] = points,
            ["segments_count"] = 2,
            ["config"] = new JsonObject
            {
                ["params"] = new JsonObject
                {
                    ["vectors"] = vectors,
                    ["shard_number"] = shards,
                    ["replication_factor"] = replication,
                    ["write_consistency_factor"] = 1,
                    ["on_disk_payload"] = true,
                },
                ["hnsw_config"] = new JsonObject { ["m"] = 16, ["ef_construct"] = 100, ["full_scan_threshold"] = 10000 },
                ["optimizer_config"] = new JsonObject { ["default_segment_number"] = 0, ["flush_interval_sec"] = 5 },
                ["wal_config"] = new JsonObject { ["wal_capacity_mb"] = 32, ["wal_segments_ahead"] = 0 },
            },
            ["payload_schema"] = payloadSchema ?? new JsonObject(),
        });

    public static JsonObject Vector(int size, string distance, int? m = null, bool? onDisk = null)
    {
        var vector = new JsonObject { ["size"] = size, ["distance"] = distance };
        if (m is { } hnswM)
        {
            vector["hnsw_config"] = new JsonObject { ["m"] = hnswM };
        }

        if (onDisk is { } disk)
        {
            vector["on_disk"] = disk;
        }

        return vector;
    }

    public static JsonObject Named(params (string Name, JsonObject Vector)[] vectors)
    {
        var map = new JsonObject();
        foreach (var (name, vector) in vectors)
        {
            map[name] = vector;
        }

        return map;
    }

    public static JsonObject PayloadIndex(string type, long points = 1000) => new() { ["data_type"] = type, ["points"] = points };

    public static JsonNode Id(long id) => JsonValue.Create(id);

    public static JsonNode Id(Guid id) => JsonValue.Create(id.ToString("D", CultureInfo.InvariantCulture));

    private static string Json(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
