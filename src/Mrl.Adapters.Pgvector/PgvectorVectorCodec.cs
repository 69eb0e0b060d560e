using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
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
    // The binary form's dimension (int16) and its unused int16.
    private const int WireHeader = 4;

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

    public static ReadOnlyMemory<float> ReadFull(NpgsqlDataReader reader, int ordinal, VectorType type)
    {
        if (type == VectorType.Vector)
        {
            return reader.GetFieldValue<Vector>(ordinal).Memory;
        }

        var half = reader.GetFieldValue<HalfVector>(ordinal).Memory.Span;
        var target = new float[half.Length];
        TensorPrimitives.ConvertToSingle(half, target);
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

    /// <summary>
    /// Decodes a full vector selected as <c>vector_send(v)</c> or <c>halfvec_send(v)</c> into <paramref name="destination"/>:
    /// a 2-byte dimension and 2 unused bytes, then the values big-endian, swapped a span at a time (and widened for halfvec).
    /// </summary>
    /// <exception cref="InvalidDataException">The value has another dimension than <paramref name="destination"/>.</exception>
    public static void ReadWire(NpgsqlDataReader reader, int ordinal, VectorType type, Span<float> destination)
    {
        var width = type == VectorType.HalfVec ? 2 : 4;
        var length = (int)reader.GetBytes(ordinal, 0, null, 0, 0);
        var bytes = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            reader.GetBytes(ordinal, 0, bytes, 0, length);
            var dimensions = length >= WireHeader ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : -1;
            if (dimensions != destination.Length || length != WireHeader + (dimensions * width))
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"A full vector read back has {dimensions} values in {length} bytes; the layout has {destination.Length}."));
            }

            var values = bytes.AsSpan(WireHeader, length - WireHeader);
            if (type == VectorType.HalfVec)
            {
                var halves = MemoryMarshal.Cast<byte, ushort>(values);
                BinaryPrimitives.ReverseEndianness(halves, halves);
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<ushort, Half>(halves), destination);
            }
            else
            {
                BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(values), MemoryMarshal.Cast<float, uint>(destination));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }
}
