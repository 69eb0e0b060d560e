using CsCheck;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Tests;

public sealed class ExactKnnTests
{
    [Fact]
    public void Parallel_scan_finds_the_same_rows_as_a_sequential_sort()
    {
        const int d = 24;
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Seed = 3 }).Generate(20_000);
        var query = data.AsMemory(123 * d, d);

        var found = ExactKnn.Search(data, 20_000, d, query, 15, DistanceMetric.DotProduct);

        var expected = Enumerable.Range(0, 20_000)
            .Select(i => (Index: i, Score: VectorMath.Score(DistanceMetric.DotProduct, data.AsSpan(i * d, d), query.Span)))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(15).ToArray();
        Assert.Equal(expected.Select(e => e.Index), found.Select(f => f.Index));
        Assert.Equal(123, found[0].Index);
    }

    [Fact]
    public void Manhattan_scan_ranks_rows_by_the_negative_l1_distance()
    {
        const int d = 300;
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Seed = 5 }).Generate(2_000);
        var query = data.AsMemory(77 * d, d);

        var found = ExactKnn.Search(data, 2_000, d, query, 10, DistanceMetric.Manhattan);

        var expected = Enumerable.Range(0, 2_000)
            .Select(i => (Index: i, Score: -data.AsSpan(i * d, d).ToArray().Zip(query.ToArray(), (x, y) => Math.Abs(x - y)).Sum()))
            .OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(10).ToArray();
        Assert.Equal(expected.Select(e => e.Index), found.Select(f => f.Index));
        Assert.Equal(77, found[0].Index);
        Assert.Equal(0f, found[0].Score);
        Assert.All(found.Zip(expected), p => Assert.Equal(p.Second.Score, p.First.Score, 3));
    }

    [Fact]
    public void Predicate_restricts_the_rows_searched()
    {
        Gen.Int[1, 400].Sample(n =>
        {
            var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = 8, Seed = n }).Generate(n);
            var found = ExactKnn.Search(data, n, 8, data.AsMemory(0, 8), 5, DistanceMetric.Euclidean, i => i % 3 == 0);
            return found.Length == Math.Min(5, (n + 2) / 3) && found.All(f => f.Index % 3 == 0);
        }, iter: 50);
    }
}
