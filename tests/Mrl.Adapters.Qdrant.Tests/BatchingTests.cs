using CsCheck;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class BatchingTests
{
    [Fact]
    public void Messages_stay_within_the_limit_keep_every_point_in_order_and_are_as_few_as_greedy_packing_allows()
    {
        Gen.Select(Gen.Int[0, 3000].Array[0, 40], Gen.Int[3400, 20000]).Sample((lengths, limit) =>
        {
            var points = lengths.Select(Point).ToArray();

            var batches = QdrantAdaptiveStore<long>.Batches(points, limit, Envelope(), i => $"point {i}");

            var sent = batches.Select(b => new Proto.UpsertPoints { CollectionName = new string('c', 255), Wait = true, Points = { b } }).ToArray();
            if (!sent.SelectMany(u => u.Points).Select(p => p.Id.Num).SequenceEqual(lengths.Select((_, i) => (ulong)i)) ||
                sent.Any(u => u.CalculateSize() > limit))
            {
                return false;
            }

            // Greedy packing: the first point of each next batch would not have fitted in the batch before it.
            for (var i = 0; i + 1 < batches.Count; i++)
            {
                var grown = new Proto.UpsertPoints { CollectionName = new string('c', 255), Wait = true, Points = { batches[i], batches[i + 1][0] } };
                if (grown.CalculateSize() <= limit)
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Fact]
    public void A_point_that_alone_exceeds_the_limit_is_refused_naming_it()
    {
        var error = Assert.Throws<ArgumentException>(() => QdrantAdaptiveStore<long>.Batches([Point(10, 0), Point(5000, 1)], 4096, Envelope(), i => $"point {i}"));

        Assert.Contains("point 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("4096", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_points_make_no_batches()
    {
        Assert.Empty(QdrantAdaptiveStore<long>.Batches(Array.Empty<Proto.PointStruct>(), 4096, Envelope(), i => $"point {i}"));
    }

    [Fact]
    public void A_message_of_exactly_the_limit_is_allowed_and_one_byte_less_is_not()
    {
        var point = Point(100, 0);
        var exact = new Proto.UpsertPoints { CollectionName = new string('c', 255), Wait = true, Points = { point } }.CalculateSize();

        Assert.Single(QdrantAdaptiveStore<long>.Batches([point], exact, Envelope(), i => $"point {i}"));
        Assert.Throws<ArgumentException>(() => QdrantAdaptiveStore<long>.Batches([point], exact - 1, Envelope(), i => $"point {i}"));
    }

    private static Proto.UpsertPoints Envelope() => new() { CollectionName = new string('c', 255), Wait = true };

    private static Proto.PointStruct Point(int payloadLength, int i)
    {
        var point = QdrantAdaptiveStore<long>.Point(QdrantPointId.FromNumber((ulong)i), [1f, 0f], [1f, 0f, 0f, 0f], "prefix", "full");
        point.Payload["text"] = new Proto.Value { StringValue = new string('x', payloadLength) };
        return point;
    }
}
