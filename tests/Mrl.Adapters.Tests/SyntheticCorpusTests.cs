using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Tests;

public sealed class SyntheticCorpusTests
{
    [Fact]
    public void Same_seed_gives_the_same_data_and_streams_differ()
    {
        var options = new SyntheticCorpusOptions { Dimensions = 64, Seed = 11 };
        var a = new SyntheticCorpus(options).Generate(3000);
        var b = new SyntheticCorpus(options).Generate(3000);
        var queries = new SyntheticCorpus(options).Generate(3000, stream: 1);
        Assert.Equal(a, b);
        Assert.NotEqual(a, queries);
    }

    [Fact]
    public void Variance_is_front_loaded_and_vectors_have_unit_length()
    {
        const int d = 128;
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d }).Generate(2000);
        double head = 0, tail = 0;
        for (var row = 0; row < 2000; row++)
        {
            var v = data.AsSpan(row * d, d);
            Assert.Equal(1.0, Math.Sqrt(v.ToArray().Sum(x => (double)x * x)), 4);
            for (var i = 0; i < 16; i++)
            {
                head += v[i] * v[i];
                tail += v[d - 1 - i] * v[d - 1 - i];
            }
        }

        Assert.True(head > 10 * tail, $"head {head} tail {tail}");
    }

    [Fact]
    public void Options_reject_out_of_range_values()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticCorpusOptions { Dimensions = 1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticCorpusOptions { Clusters = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticCorpusOptions { Difficulty = double.NaN });
    }
}
