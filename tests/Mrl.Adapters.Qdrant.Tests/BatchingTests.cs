using System.Text;
using System.Text.Json;
using CsCheck;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class BatchingTests
{
    [Fact]
    public void Bodies_stay_within_the_limit_keep_every_item_in_order_and_are_as_few_as_greedy_packing_allows()
    {
        Gen.Select(Gen.Int[0, 300].Array[0, 60], Gen.Int[320, 3000]).Sample((lengths, limit) =>
        {
            using var buffer = new JsonItemBuffer();
            foreach (var length in lengths)
            {
                buffer.Add(length, static (w, n) => w.WriteStringValue(new string('x', n)));
            }

            var bodies = buffer.Pack(limit, i => $"item {i}");

            var items = bodies.SelectMany(b => JsonDocument.Parse(b).RootElement.GetProperty("points").EnumerateArray().Select(e => e.GetString()!.Length)).ToArray();
            if (!items.SequenceEqual(lengths) || bodies.Any(b => b.Length > limit))
            {
                return false;
            }

            // Greedy packing: the first item of each next body would not have fitted in the body before it.
            for (var i = 0; i + 1 < bodies.Count; i++)
            {
                var next = JsonDocument.Parse(bodies[i + 1]).RootElement.GetProperty("points")[0].GetString()!.Length + 2;
                if (bodies[i].Length + 1 + next <= limit)
                {
                    return false;
                }
            }

            return true;
        });
    }

    [Fact]
    public void A_body_of_exactly_the_limit_is_allowed_and_one_byte_more_is_not()
    {
        using var buffer = new JsonItemBuffer();
        buffer.Add(0, static (w, _) => w.WriteStringValue("abc"));
        var exact = JsonItemBuffer.EnvelopeBytes + 5;

        Assert.Equal("""{"points":["abc"]}""", Encoding.UTF8.GetString(Assert.Single(buffer.Pack(exact, i => $"item {i}"))));
        var error = Assert.Throws<ArgumentException>(() => buffer.Pack(exact - 1, i => $"item {i}"));
        Assert.Contains("item 0", error.Message, StringComparison.Ordinal);
        Assert.Contains((exact - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_items_make_no_bodies()
    {
        using var buffer = new JsonItemBuffer();
        Assert.Empty(buffer.Pack(1024, i => $"item {i}"));
    }
}
