namespace Mrl.Adapters.Tests;

public sealed class SearchOptionsTests
{
    [Theory]
    [InlineData(0, 8)]
    [InlineData(-1, 8)]
    [InlineData(10, 0)]
    [InlineData(10, -3)]
    [InlineData(SearchOptions.MaxCandidates + 1, 1)]
    public void Options_reject_k_and_oversampling_out_of_range(int k, int oversampling)
    {
        var error = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new SearchOptions { K = k, Oversampling = oversampling });
        Assert.Contains("must be", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Candidate_count_is_k_times_oversampling_and_k_without_rerank()
    {
        Assert.Equal(80, new SearchOptions().CandidateCount);
        Assert.Equal(10, new SearchOptions { Strategy = SearchStrategy.PrefixOnly }.CandidateCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SearchOptions { K = 50_000, Oversampling = 8 }.CandidateCount);
    }

    [Fact]
    public void Filters_reject_empty_lists_and_unbounded_ranges()
    {
        Assert.Throws<ArgumentException>(() => Filter.In("a", []));
        Assert.Throws<ArgumentException>(() => Filter.Range("a"));
        Assert.ThrowsAny<ArgumentException>(() => Filter.Eq(" ", 1));
        Assert.Throws<ArgumentException>(() => Filter.Eq("a", double.NaN));
        Assert.Equal(["a", "b"], (Filter.Eq("a", 1) & !Filter.Eq("b", "x") | Filter.Eq("a", 2)).Fields().Order());
    }
}
