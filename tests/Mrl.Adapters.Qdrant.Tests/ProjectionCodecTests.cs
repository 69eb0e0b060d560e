using System.Buffers.Binary;
using System.Security.Cryptography;
using Google.Protobuf.Collections;
using Mrl.Adapters.Qdrant.Tests.Support;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// How a projection is written to Qdrant and read back, without a server: its directions as points of the side collection,
/// the marker in the collection's metadata, and what a reader makes of a stored version that is partial or altered.
/// </summary>
public sealed class ProjectionCodecTests
{
    private const int Dimensions = 32, Prefix = 8;
    private const string Side = "docs_mrl_projection";

    private static readonly PrefixProjection Projection = Fit(version: 1);

    [Fact]
    public void Directions_read_back_in_any_order_give_the_same_projection()
    {
        var points = Stored(Projection).Reverse().ToArray();

        var read = QdrantProjectionCodec.Assemble(QdrantProjectionCodec.Describe(Projection, Side), points, "docs");

        Assert.Equal(Projection, read);
        Assert.Equal(Projection.Matrix.ToArray(), read.Matrix.ToArray());
    }

    [Fact]
    public void Marker_round_trips_through_collection_metadata_and_other_keys_are_left_alone()
    {
        var marker = QdrantProjectionCodec.Describe(Projection, Side);
        var metadata = new MapField<string, Proto.Value>
        {
            [QdrantProjectionCodec.MetadataKey("prefix")] = QdrantProjectionCodec.Marker(marker),
            ["owner"] = new Proto.Value { StringValue = "search team" },
        };

        var markers = QdrantProjectionCodec.ReadMarkers(metadata, "docs");

        Assert.Equal(marker, Assert.Single(markers, m => m.Key == "prefix").Value);
        Assert.Single(markers);
        Assert.True(marker.Describes(Projection));
        Assert.Equal((Side, 1, Prefix, Dimensions), (marker.Collection, marker.Version, marker.Rows, marker.Columns));
    }

    [Fact]
    public void Checksum_is_the_sha256_of_the_little_endian_matrix()
    {
        var bytes = new byte[Projection.Matrix.Length * sizeof(float)];
        for (var i = 0; i < Projection.Matrix.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), Projection.Matrix[i]);
        }

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), QdrantProjectionCodec.Checksum(Projection));
    }

    [Fact]
    public void Versions_have_their_own_point_ids_and_the_marker_tells_two_fits_of_one_version_apart()
    {
        var second = Fit(version: 2);
        var otherFit = Fit(version: 1, seed: 12);

        var first = QdrantProjectionCodec.Points(Projection).Select(p => p.Id.Num).ToArray();
        var next = QdrantProjectionCodec.Points(second).Select(p => p.Id.Num).ToArray();

        Assert.Empty(first.Intersect(next));
        Assert.All(first, id => Assert.Equal(1ul, id >> 32));
        Assert.All(next, id => Assert.Equal(2ul, id >> 32));
        Assert.Equal(Enumerable.Range(0, Prefix).Select(r => (ulong)r), first.Select(id => id & uint.MaxValue));
        var marker = QdrantProjectionCodec.Describe(Projection, Side);
        Assert.False(marker.Describes(second));
        Assert.False(marker.Describes(otherFit));
    }

    [Fact]
    public void A_missing_direction_is_named_in_the_error()
    {
        var points = Stored(Projection).Where(p => p.Id.Num != QdrantProjectionCodec.PointId(1, 5)).ToArray();

        var error = Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.Assemble(QdrantProjectionCodec.Describe(Projection, Side), points, "docs"));

        Assert.Contains("projection version 1 (8 × 32)", error.Message, StringComparison.Ordinal);
        Assert.Contains("'docs'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{Side}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("7 of its 8 directions are there (row 5 is the first missing)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rewritten_value_fails_the_checksum_though_the_rows_stay_orthonormal()
    {
        var points = Stored(Projection);
        points[3].Vectors.Vector.Dense.Data[0] += 1e-6f;

        var error = Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.Assemble(QdrantProjectionCodec.Describe(Projection, Side), points, "docs"));

        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_stored_twice_a_direction_of_another_version_and_a_short_vector_are_refused()
    {
        var marker = QdrantProjectionCodec.Describe(Projection, Side);
        var twice = Stored(Projection);
        twice[2].Payload[QdrantProjectionCodec.RowField] = new Proto.Value { IntegerValue = 1 };
        var mixed = Stored(Projection);
        mixed[0] = Stored(Fit(version: 2))[0];
        var shortVector = Stored(Projection);
        shortVector[4].Vectors.Vector.Dense.Data.RemoveAt(0);

        Assert.Contains("row 1 is stored twice", Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.Assemble(marker, twice, "docs")).Message, StringComparison.Ordinal);
        Assert.Contains("has no 'version' 1", Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.Assemble(marker, mixed, "docs")).Message, StringComparison.Ordinal);
        Assert.Contains("row 4", Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.Assemble(marker, shortVector, "docs")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_that_are_not_orthonormal_are_refused_with_the_reason()
    {
        var scaled = Stored(Projection);
        for (var i = 0; i < Dimensions; i++)
        {
            scaled[6].Vectors.Vector.Dense.Data[i] *= 2;
        }

        var error = Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.Assemble(QdrantProjectionCodec.Describe(Projection, Side), scaled, "docs"));

        Assert.Contains("not orthonormal", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BrokenMarkers => new()
    {
        { "not-an-object", "it is a StringValue, not an object" },
        { "format", "its format is 2, and this version reads format 1" },
        { "sha256", "no 'sha256' of 64 lowercase hex digits" },
        { "rows", "its 'rows' exceed its 'columns'" },
        { "version", "no positive integer 'version'" },
        { "collection", "no 'collection' that names a collection" },
    };

    [Theory]
    [MemberData(nameof(BrokenMarkers))]
    public void A_marker_that_cannot_be_read_is_refused_by_its_key(string broken, string reason)
    {
        var marker = QdrantProjectionCodec.Marker(QdrantProjectionCodec.Describe(Projection, Side));
        var fields = marker.StructValue.Fields;
        switch (broken)
        {
            case "not-an-object":
                marker = new Proto.Value { StringValue = "v1" };
                break;
            case "format":
                fields["format"] = new Proto.Value { IntegerValue = 2 };
                break;
            case "sha256":
                fields["sha256"] = new Proto.Value { StringValue = "ABC" };
                break;
            case "rows":
                fields["rows"] = new Proto.Value { IntegerValue = Dimensions + 1 };
                break;
            case "version":
                fields["version"] = new Proto.Value { DoubleValue = 1.5 };
                break;
            case "collection":
                fields["collection"] = new Proto.Value { StringValue = "a/b" };
                break;
        }

        var metadata = new MapField<string, Proto.Value> { [QdrantProjectionCodec.MetadataKey("prefix")] = marker };

        var error = Assert.Throws<SchemaMismatchException>(() => QdrantProjectionCodec.ReadMarkers(metadata, "docs"));

        Assert.Contains("'mrl_projection:prefix'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Side_collection_names_stay_within_qdrants_limit_and_apart()
    {
        var longName = new string('a', 250);

        var side = QdrantProjectionCodec.CollectionFor(longName);

        Assert.Equal("docs_mrl_projection", QdrantProjectionCodec.CollectionFor("docs"));
        Assert.True(side.Length <= QdrantNames.MaxCollectionNameLength, side);
        Assert.EndsWith("_mrl_projection", side, StringComparison.Ordinal);
        Assert.Null(QdrantNames.CollectionNameProblem(side));
        Assert.NotEqual(side, QdrantProjectionCodec.CollectionFor(longName + "b"));
    }

    private static PrefixProjection Fit(int version, int seed = 11) =>
        ProjectionFitter.Fit(Samples.Vectors(400, Dimensions, seed: seed), Dimensions, Prefix, DistanceMetric.Cosine, version);

    /// <summary>The directions as a scroll of the side collection returns them.</summary>
    private static Proto.RetrievedPoint[] Stored(PrefixProjection projection) =>
        QdrantProjectionCodec.Points(projection).Select(point =>
        {
            var retrieved = new Proto.RetrievedPoint
            {
                Id = point.Id,
                Vectors = new Proto.VectorsOutput { Vector = new Proto.VectorOutput { Dense = new Proto.DenseVector { Data = { point.Vectors.Vector.Dense.Data } } } },
            };
            retrieved.Payload.Add(point.Payload);
            return retrieved;
        }).ToArray();
}
