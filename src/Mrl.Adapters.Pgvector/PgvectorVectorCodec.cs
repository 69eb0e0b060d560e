using System.Numerics.Tensors;
using System.Text.Json;
using Npgsql;
using Pgvector;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Vectors and payloads to and from Npgsql's binary protocol: pgvector's <c>vector</c> and <c>halfvec</c> parameters, typed by
/// pgvector's own schema, and the full vectors and payloads read back.
/// </summary>
internal static class PgvectorVectorCodec
{
    public static NpgsqlParameter PrefixParameter(PgvectorTable table, ReadOnlyMemory<float> prefix) => VectorParameter(table, table.PrefixType, prefix);

    // Records are checked before they get here; a query is checked here, as it is about to be sent. The type is named with
    // pgvector's schema, so the parameter goes out with that type's OID whatever other "vector" types the database has.
    public static NpgsqlParameter VectorParameter(PgvectorTable table, VectorType type, ReadOnlyMemory<float> vector)
    {
        if (type != VectorType.HalfVec)
        {
            return new NpgsqlParameter<Vector> { TypedValue = new Vector(vector), DataTypeName = table.DataTypeName(type) };
        }

        PgvectorValueRules.CheckHalf(vector.Span, "the query");
        return new NpgsqlParameter<HalfVector> { TypedValue = ToHalfVector(vector), DataTypeName = table.DataTypeName(type) };
    }

    public static HalfVector ToHalfVector(ReadOnlyMemory<float> vector)
    {
        var half = new Half[vector.Length];
        TensorPrimitives.ConvertToHalf(vector.Span, half);
        return new HalfVector(half);
    }

    public static ReadOnlyMemory<float> ReadFull(NpgsqlDataReader reader, int ordinal, VectorType type, Memory<float>? destination)
    {
        if (type == VectorType.Vector)
        {
            return reader.GetFieldValue<Vector>(ordinal).Memory;
        }

        var half = reader.GetFieldValue<HalfVector>(ordinal).Memory.Span;
        var target = destination ?? new float[half.Length];
        TensorPrimitives.ConvertToSingle(half, target.Span);
        return target;
    }

    public static JsonElement? ReadPayload(NpgsqlDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        using var document = JsonDocument.Parse(reader.GetString(ordinal));
        return document.RootElement.Clone();
    }

    public static long FullVectorBytes(PgvectorTable table) => (long)table.Layout.FullDimensions * (table.FullType == VectorType.HalfVec ? 2 : 4);

    public static void ReadFullInto(NpgsqlDataReader reader, int ordinal, VectorType type, Memory<float> destination)
    {
        var full = ReadFull(reader, ordinal, type, destination);
        if (!full.Equals(destination))
        {
            full.CopyTo(destination);
        }
    }
}
