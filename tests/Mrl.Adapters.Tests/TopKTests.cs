using CsCheck;

namespace Mrl.Adapters.Tests;

public sealed class TopKTests
{
    [Fact]
    public void TopK_keeps_the_same_entries_as_a_full_sort()
    {
        Gen.Select(Gen.Single[-100f, 100f].Array[0, 300], Gen.Int[1, 50]).Sample((scores, k) =>
        {
            var top = new TopK(k);
            for (var i = 0; i < scores.Length; i++)
            {
                top.Offer(scores[i], i);
            }

            var expected = scores.Select((s, i) => (Id: i, Score: s))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Id).Take(k).ToArray();
            return expected.SequenceEqual(top.ToSortedDescending());
        });
    }

    [Fact]
    public void TopK_ignores_nan_scores()
    {
        var top = new TopK(2);
        top.Offer(float.NaN, 0);
        top.Offer(1, 1);
        Assert.Equal([(1, 1f)], top.ToSortedDescending());
    }
}
