using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf.Collections;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>Conversions between the adapter's types (point ids, JSON payloads, float spans) and Qdrant.Client's messages.</summary>
internal static class QdrantProtos
{
    /// <summary>A dense vector as a <c>Vector</c> of a point (the <c>dense</c> member, which every supported server reads).</summary>
    public static Proto.Vector Vector(ReadOnlySpan<float> values) => new() { Dense = Dense(values) };

    /// <summary>A query on a dense vector: the nearest points to <paramref name="values"/>.</summary>
    public static Proto.Query Nearest(ReadOnlySpan<float> values) => new() { Nearest = new Proto.VectorInput { Dense = Dense(values) } };

    public static Proto.DenseVector Dense(ReadOnlySpan<float> values)
    {
        var dense = new Proto.DenseVector();
        dense.Data.Capacity = values.Length;
        foreach (var value in values)
        {
            dense.Data.Add(value);
        }

        return dense;
    }

    public static Proto.PointId PointId(QdrantPointId id) =>
        id.IsUuid ? new Proto.PointId { Uuid = id.Uuid.ToString("D", CultureInfo.InvariantCulture) } : new Proto.PointId { Num = id.Number };

    /// <exception cref="QdrantException">The id is neither a number nor a UUID.</exception>
    public static QdrantPointId PointId(Proto.PointId id) => id.PointIdOptionsCase switch
    {
        Proto.PointId.PointIdOptionsOneofCase.Num => QdrantPointId.FromNumber(id.Num),
        Proto.PointId.PointIdOptionsOneofCase.Uuid when Guid.TryParse(id.Uuid, out var uuid) => QdrantPointId.FromUuid(uuid),
        _ => throw new QdrantException($"Qdrant returned a point id that is neither an unsigned integer nor a UUID: {id}."),
    };

    /// <summary>
    /// The named dense vector <paramref name="name"/> of a point (the unnamed one when null), or null when the point has
    /// none; checked to have <paramref name="dimensions"/> values.
    /// </summary>
    /// <exception cref="QdrantException">The vector is not a dense vector of that length.</exception>
    public static float[]? ReadVector(Proto.VectorsOutput? vectors, string? name, int dimensions)
    {
        if (Values(vectors, name, dimensions) is not { } values)
        {
            return null;
        }

        var result = new float[dimensions];
        values.CopyTo(result, 0);
        return result;
    }

    /// <summary>Copies the named dense vector of a point into <paramref name="destination"/>; false when the point has none.</summary>
    /// <exception cref="QdrantException">The vector is not a dense vector of the destination's length.</exception>
    public static bool TryReadVector(Proto.VectorsOutput? vectors, string name, Span<float> destination)
    {
        if (Values(vectors, name, destination.Length) is not { } values)
        {
            return false;
        }

        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = values[i];
        }

        return true;
    }

    private static RepeatedField<float>? Values(Proto.VectorsOutput? vectors, string? name, int dimensions)
    {
        Proto.VectorOutput? output = null;
        if (vectors is not null)
        {
            if (name is null)
            {
                output = vectors.VectorsOptionsCase == Proto.VectorsOutput.VectorsOptionsOneofCase.Vector ? vectors.Vector : null;
            }
            else if (vectors.VectorsOptionsCase == Proto.VectorsOutput.VectorsOptionsOneofCase.Vectors)
            {
                vectors.Vectors.Vectors.TryGetValue(name, out output);
            }
        }

        if (output is null)
        {
            return null;
        }

        RepeatedField<float> values;
        if (output.VectorCase == Proto.VectorOutput.VectorOneofCase.Dense)
        {
            values = output.Dense.Data;
        }
        else
        {
#pragma warning disable CS0612 // Servers before 1.13 answer with the deprecated flat `data` only.
            values = output.Data;
#pragma warning restore CS0612
        }

        if (values.Count != dimensions)
        {
            throw new QdrantException(string.Create(CultureInfo.InvariantCulture,
                $"Qdrant returned a '{name ?? "(unnamed)"}' vector with {values.Count} values where {dimensions} were expected."));
        }

        return values;
    }

    /// <summary>Adds the properties of a JSON object payload to a point's payload map.</summary>
    public static void AddPayload(MapField<string, Proto.Value> target, JsonElement payload)
    {
        foreach (var property in payload.EnumerateObject())
        {
            target[property.Name] = Value(property.Value);
        }
    }

    /// <summary>
    /// A JSON value as a Qdrant <c>Value</c>. A number written without fraction or exponent that fits a long becomes an
    /// integer (so <c>match</c> on integers finds it); any other number (<c>17.0</c>, <c>1e3</c>, beyond a long) a double.
    /// </summary>
    public static Proto.Value Value(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var structure = new Proto.Struct();
                foreach (var property in element.EnumerateObject())
                {
                    structure.Fields[property.Name] = Value(property.Value);
                }

                return new Proto.Value { StructValue = structure };
            case JsonValueKind.Array:
                var list = new Proto.ListValue();
                foreach (var item in element.EnumerateArray())
                {
                    list.Values.Add(Value(item));
                }

                return new Proto.Value { ListValue = list };
            case JsonValueKind.String:
                return new Proto.Value { StringValue = element.GetString() };
            case JsonValueKind.Number:
                return IsIntegerLiteral(element) && element.TryGetInt64(out var whole)
                    ? new Proto.Value { IntegerValue = whole }
                    : new Proto.Value { DoubleValue = element.GetDouble() };
            case JsonValueKind.True:
                return new Proto.Value { BoolValue = true };
            case JsonValueKind.False:
                return new Proto.Value { BoolValue = false };
            default:
                return new Proto.Value { NullValue = Proto.NullValue.NullValue };
        }
    }

    /// <summary>
    /// A payload as the store returns it: null when empty, without the write stamp
    /// (<see cref="QdrantKeyMapping.VersionPayloadField"/>), and without <see cref="QdrantKeyMapping.KeyPayloadField"/> when
    /// <paramref name="removeKeyField"/>.
    /// </summary>
    public static JsonElement? Payload(MapField<string, Proto.Value> payload, bool removeKeyField)
    {
        var kept = payload.Count - (removeKeyField && payload.ContainsKey(QdrantKeyMapping.KeyPayloadField) ? 1 : 0)
                   - (payload.ContainsKey(QdrantKeyMapping.VersionPayloadField) ? 1 : 0);
        if (kept == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in payload)
            {
                if ((!removeKeyField || name != QdrantKeyMapping.KeyPayloadField) && name != QdrantKeyMapping.VersionPayloadField)
                {
                    writer.WritePropertyName(name);
                    Write(writer, value);
                }
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// The write stamp of a point (<see cref="QdrantKeyMapping.VersionPayloadField"/>), or <see cref="Caching.RowVersion.Unknown"/>
    /// when the point was written without one (by another writer, or before the store wrote stamps).
    /// </summary>
    public static long Version(MapField<string, Proto.Value> payload) =>
        payload.TryGetValue(QdrantKeyMapping.VersionPayloadField, out var value) && value.KindCase == Proto.Value.KindOneofCase.IntegerValue && value.IntegerValue >= 0
            ? value.IntegerValue
            : Caching.RowVersion.Unknown;

    /// <summary>The string payload field <paramref name="name"/>, or null when it is absent or not a string.</summary>
    public static string? StringField(MapField<string, Proto.Value> payload, string name) =>
        payload.TryGetValue(name, out var value) && value.KindCase == Proto.Value.KindOneofCase.StringValue ? value.StringValue : null;

    private static void Write(Utf8JsonWriter writer, Proto.Value value)
    {
        switch (value.KindCase)
        {
            case Proto.Value.KindOneofCase.StructValue:
                writer.WriteStartObject();
                foreach (var (name, field) in value.StructValue.Fields)
                {
                    writer.WritePropertyName(name);
                    Write(writer, field);
                }

                writer.WriteEndObject();
                break;
            case Proto.Value.KindOneofCase.ListValue:
                writer.WriteStartArray();
                foreach (var item in value.ListValue.Values)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            case Proto.Value.KindOneofCase.StringValue:
                writer.WriteStringValue(value.StringValue);
                break;
            case Proto.Value.KindOneofCase.IntegerValue:
                writer.WriteNumberValue(value.IntegerValue);
                break;
            case Proto.Value.KindOneofCase.DoubleValue when double.IsFinite(value.DoubleValue):
                writer.WriteNumberValue(value.DoubleValue);
                break;
            case Proto.Value.KindOneofCase.BoolValue:
                writer.WriteBooleanValue(value.BoolValue);
                break;
            default:
                // Null, and non-finite doubles, which JSON cannot hold.
                writer.WriteNullValue();
                break;
        }
    }

    private static bool IsIntegerLiteral(JsonElement number)
    {
        var raw = number.GetRawText();
        return raw.AsSpan().IndexOfAny(".eE") < 0;
    }
}
