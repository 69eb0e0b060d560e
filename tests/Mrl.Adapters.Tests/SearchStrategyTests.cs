using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.Tests;

public sealed class SearchStrategyTests
{
    [Theory]
    [InlineData(SearchStrategy.TwoPass, "two-pass")]
    [InlineData(SearchStrategy.TwoPassInDatabase, "two-pass-db")]
    [InlineData(SearchStrategy.PrefixOnly, "prefix")]
    [InlineData(SearchStrategy.FullDimension, "full")]
    public void Every_strategy_has_one_name_that_parses_back(SearchStrategy strategy, string name)
    {
        Assert.Equal(name, SearchStrategyNames.Name(strategy));
        Assert.True(SearchStrategyNames.TryParse(name.ToUpperInvariant(), out var parsed));
        Assert.Equal(strategy, parsed);
        Assert.True(SearchStrategyNames.TryParse(strategy.ToString(), out parsed));
        Assert.Equal(strategy, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("InProcess")]
    [InlineData("two pass")]
    public void Other_names_do_not_parse(string name) => Assert.False(SearchStrategyNames.TryParse(name, out _));

    [Fact]
    public void An_undefined_strategy_is_refused_when_set()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SearchOptions { Strategy = (SearchStrategy)42 });
        Assert.Contains("Not a search strategy", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SearchStrategy.TwoPass, SearchStrategy.TwoPass, 40)]
    [InlineData(SearchStrategy.TwoPassInDatabase, SearchStrategy.TwoPass, 40)]
    [InlineData(SearchStrategy.PrefixOnly, SearchStrategy.PrefixOnly, 5)]
    [InlineData(SearchStrategy.FullDimension, SearchStrategy.FullDimension, 5)]
    public async Task The_in_memory_store_reports_the_strategy_that_ran(SearchStrategy asked, SearchStrategy ran, int candidates)
    {
        using var store = new InMemoryAdaptiveStore<long>(new EmbeddingLayout(16, 4));
        var records = Enumerable.Range(0, 60)
            .Select(i => new VectorRecord<long>(i, Enumerable.Range(0, 16).Select(j => MathF.Sin((i * 16) + j + 1)).ToArray()))
            .ToArray();
        await store.UpsertAsync(records);

        var result = await store.SearchAsync(records[7].Vector, new SearchOptions { K = 5, Oversampling = 8, Strategy = asked });

        Assert.Equal(ran, result.Diagnostics.Strategy);
        Assert.Equal(SearchStrategyNames.Name(ran), result.Diagnostics.StrategyName);
        Assert.Equal(candidates, result.Diagnostics.CandidatesFetched);
        Assert.Equal(7, result.Hits[0].Key);
    }
}
