using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.Collections;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// How a projection is written to Qdrant and read back: its directions as points of a side collection (one point per
/// direction and version: the direction as an unnamed vector of D values, the version and the row in the payload), and
/// the marker in the collection's metadata that names the version its prefix vector's keys are computed with.
/// </summary>
/// <remarks>
/// A version's directions are written once and never changed, and the marker moves to a version only after all its
/// directions are written; the marker is one metadata value, replaced in one collection update. A reader that reads the
/// marker, then the directions of the version it names, therefore gets one whole version. The marker's shape and
/// checksum let a reader tell a whole version from a partial or altered one.
/// </remarks>
internal static class QdrantProjectionCodec
{
    /// <summary>The marker format this code writes and reads.</summary>
    public const int Format = 1;

    /// <summary>The payload field of a direction that holds its projection version.</summary>
    public const string VersionField = "version";

    /// <summary>The payload field of a direction that holds its row in the matrix (0 to p - 1).</summary>
    public const string RowField = "row";

    private const string MetadataKeyPrefix = "mrl_projection:";
    private const string CollectionSuffix = "_mrl_projection";

    /// <summary>The collection metadata key of the marker for the prefix vector <paramref name="prefixVectorName"/>.</summary>
    public static string MetadataKey(string prefixVectorName) => MetadataKeyPrefix + prefixVectorName;

    /// <summary>
    /// The side collection for the projections of <paramref name="collection"/>: its name followed by
    /// <c>_mrl_projection</c>, shortened with a hash of the whole name when that would pass Qdrant's length limit.
    /// </summary>
    public static string CollectionFor(string collection)
    {
        var name = collection + CollectionSuffix;
        if (name.EnumerateRunes().Count() <= QdrantNames.MaxCollectionNameLength)
        {
            return name;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(collection)))[..12];
        var kept = new StringBuilder();
        foreach (var rune in collection.EnumerateRunes().Take(QdrantNames.MaxCollectionNameLength - CollectionSuffix.Length - hash.Length - 1))
        {
            kept.Append(rune.ToString());
        }

        return $"{kept}_{hash}{CollectionSuffix}";
    }

    /// <summary>The SHA-256 of the matrix, row-major, as little-endian <c>float</c>s, in lowercase hex.</summary>
    public static string Checksum(PrefixProjection projection)
    {
        ArgumentNullException.ThrowIfNull(projection);
        var matrix = projection.Matrix;
        if (BitConverter.IsLittleEndian)
        {
            return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(matrix)));
        }

        var bytes = new byte[matrix.Length * sizeof(float)];
        for (var i = 0; i < matrix.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), matrix[i]);
        }

        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    /// <summary>The marker of <paramref name="projection"/>, stored in <paramref name="collection"/>.</summary>
    public static QdrantProjectionInfo Describe(PrefixProjection projection, string collection) =>
        new(collection, projection.Version, projection.Rows, projection.Columns, Checksum(projection));

    /// <summary>The marker as a collection metadata value.</summary>
    public static Proto.Value Marker(QdrantProjectionInfo info)
    {
        var fields = new Proto.Struct();
        fields.Fields["format"] = new Proto.Value { IntegerValue = Format };
        fields.Fields["collection"] = new Proto.Value { StringValue = info.Collection };
        fields.Fields["version"] = new Proto.Value { IntegerValue = info.Version };
        fields.Fields["rows"] = new Proto.Value { IntegerValue = info.Rows };
        fields.Fields["columns"] = new Proto.Value { IntegerValue = info.Columns };
        fields.Fields["sha256"] = new Proto.Value { StringValue = info.Checksum };
        return new Proto.Value { StructValue = fields };
    }

    /// <summary>The markers in a collection's metadata, by prefix vector name; other metadata is left alone.</summary>
    /// <exception cref="SchemaMismatchException">A marker is not one this code can read; the message names its key and what is wrong.</exception>
    public static Dictionary<string, QdrantProjectionInfo> ReadMarkers(MapField<string, Proto.Value> metadata, string collection)
    {
        var markers = new Dictionary<string, QdrantProjectionInfo>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata)
        {
            if (!key.StartsWith(MetadataKeyPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            if (ParseMarker(value) is { } problem)
            {
                throw new SchemaMismatchException(
                    $"The metadata '{key}' of Qdrant collection '{collection}' is not a projection marker this version of Mrl.Adapters.Qdrant reads: {problem}. " +
                    "It was written by another version or changed by hand; migrate the collection again with its projection (QdrantMigrator), or remove the key.");
            }

            var fields = value.StructValue.Fields;
            markers[key[MetadataKeyPrefix.Length..]] = new QdrantProjectionInfo(
                fields["collection"].StringValue, (int)fields["version"].IntegerValue, (int)fields["rows"].IntegerValue,
                (int)fields["columns"].IntegerValue, fields["sha256"].StringValue);
        }

        return markers;
    }

    /// <summary>The point id of direction <paramref name="row"/> of <paramref name="version"/>: the version in the high 32 bits, the row in the low ones.</summary>
    public static ulong PointId(int version, int row) => ((ulong)(uint)version << 32) | (uint)row;

    /// <summary>The directions of <paramref name="projection"/> as points of its side collection.</summary>
    public static Proto.PointStruct[] Points(PrefixProjection projection)
    {
        var points = new Proto.PointStruct[projection.Rows];
        for (var row = 0; row < projection.Rows; row++)
        {
            var point = new Proto.PointStruct
            {
                Id = new Proto.PointId { Num = PointId(projection.Version, row) },
                Vectors = new Proto.Vectors { Vector = QdrantProtos.Vector(projection.Row(row)) },
            };
            point.Payload[VersionField] = new Proto.Value { IntegerValue = projection.Version };
            point.Payload[RowField] = new Proto.Value { IntegerValue = row };
            points[row] = point;
        }

        return points;
    }

    /// <summary>
    /// The projection <paramref name="info"/> names, from the directions of its version read back from the side
    /// collection, checked against the marker: one direction per row, each of its full dimensions, and the checksum.
    /// </summary>
    /// <param name="info">The marker.</param>
    /// <param name="points">The points of the side collection whose version is the marker's, with their vector and payload.</param>
    /// <param name="owner">The collection the marker belongs to, for the message.</param>
    /// <exception cref="SchemaMismatchException">The stored version is incomplete, altered or not a projection; the message says how.</exception>
    public static PrefixProjection Assemble(QdrantProjectionInfo info, IEnumerable<Proto.RetrievedPoint> points, string owner)
    {
        var rows = new float[info.Rows][];
        var found = 0;
        foreach (var point in points)
        {
            if (Integer(point.Payload, VersionField) is not { } version || version != info.Version)
            {
                throw Corrupt(info, owner, string.Create(CultureInfo.InvariantCulture, $"point {point.Id} has no '{VersionField}' {info.Version} in its payload"));
            }

            if (Integer(point.Payload, RowField) is not { } row || row < 0 || row >= info.Rows)
            {
                throw Corrupt(info, owner, string.Create(CultureInfo.InvariantCulture,
                    $"point {point.Id} has no '{RowField}' between 0 and {info.Rows - 1} in its payload"));
            }

            if (rows[row] is not null)
            {
                throw Corrupt(info, owner, string.Create(CultureInfo.InvariantCulture, $"row {row} is stored twice"));
            }

            try
            {
                rows[row] = QdrantProtos.ReadVector(point.Vectors, null, info.Columns)
                            ?? throw Corrupt(info, owner, string.Create(CultureInfo.InvariantCulture, $"row {row} has no vector"));
            }
            catch (QdrantException e)
            {
                throw Corrupt(info, owner, string.Create(CultureInfo.InvariantCulture, $"row {row}: {e.Message}"), e);
            }

            found++;
        }

        if (found < info.Rows)
        {
            var missing = Array.FindIndex(rows, r => r is null);
            throw Corrupt(info, owner, string.Create(CultureInfo.InvariantCulture,
                $"{found} of its {info.Rows} directions are there (row {missing} is the first missing)"));
        }

        var matrix = new float[info.Rows * info.Columns];
        for (var row = 0; row < info.Rows; row++)
        {
            rows[row].CopyTo(matrix, row * info.Columns);
        }

        PrefixProjection projection;
        try
        {
            projection = new PrefixProjection(info.Rows, info.Columns, matrix, info.Version);
        }
        catch (ArgumentException e)
        {
            throw Corrupt(info, owner, e.Message, e);
        }

        if (!string.Equals(Checksum(projection), info.Checksum, StringComparison.Ordinal))
        {
            throw Corrupt(info, owner, "its values differ from those the marker's checksum was made of (a direction was rewritten)");
        }

        return projection;
    }

    /// <summary>The error for a stored version that cannot be read whole.</summary>
    public static SchemaMismatchException Corrupt(QdrantProjectionInfo info, string owner, string problem, Exception? cause = null)
    {
        var message = string.Create(CultureInfo.InvariantCulture,
            $"The projection version {info.Version} ({info.Rows} × {info.Columns}) that the keys of Qdrant collection '{owner}' are computed with is incomplete or altered in " +
            $"'{info.Collection}': {problem}. The keys cannot be reproduced without it: restore '{info.Collection}' from a snapshot, or migrate to a new projection.");
        return cause is null ? new SchemaMismatchException(message) : new SchemaMismatchException(message, cause);
    }

    private static string? ParseMarker(Proto.Value value)
    {
        if (value.KindCase != Proto.Value.KindOneofCase.StructValue)
        {
            return $"it is a {value.KindCase}, not an object";
        }

        var fields = value.StructValue.Fields;
        if (Integer(fields, "format") is not { } format)
        {
            return "it has no integer 'format'";
        }

        if (format != Format)
        {
            return string.Create(CultureInfo.InvariantCulture, $"its format is {format}, and this version reads format {Format}");
        }

        foreach (var name in new[] { "version", "rows", "columns" })
        {
            if (Integer(fields, name) is not (>= 1 and <= int.MaxValue))
            {
                return $"it has no positive integer '{name}'";
            }
        }

        if (Integer(fields, "rows") > Integer(fields, "columns"))
        {
            return "its 'rows' exceed its 'columns'";
        }

        if (QdrantProtos.StringField(fields, "collection") is not { Length: > 0 } collection || QdrantNames.CollectionNameProblem(collection) is not null)
        {
            return "it has no 'collection' that names a collection";
        }

        return QdrantProtos.StringField(fields, "sha256") is { Length: 64 } checksum && checksum.All(char.IsAsciiHexDigitLower)
            ? null
            : "it has no 'sha256' of 64 lowercase hex digits";
    }

    private static long? Integer(MapField<string, Proto.Value> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.KindCase == Proto.Value.KindOneofCase.IntegerValue ? value.IntegerValue : null;
}
