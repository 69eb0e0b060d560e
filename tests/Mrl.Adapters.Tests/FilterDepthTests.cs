using System.Text.Json;
using Mrl.Adapters.Filtering;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.Tests;

/// <summary>Filters nested deeply enough to end the process by stack overflow are flattened when built, or refused.</summary>
public sealed class FilterDepthTests
{
    private const int Conditions = 12_000;

    private static Filter Fold(Func<Filter, Filter, Filter> combine) =>
        Enumerable.Range(0, Conditions).Select(i => Filter.Eq("n", i)).Aggregate(combine);

    // Built with the record constructors, which skip the factories' checks.
    private static Filter HandBuiltChain(int depth)
    {
        Filter filter = new EqualsFilter("n", 1);
        for (var i = 0; i < depth; i++)
        {
            filter = i % 2 == 0 ? new NotFilter(filter) : new AndFilter([filter, new EqualsFilter("m", 1)]);
        }

        return filter;
    }

    [Fact]
    public void Twelve_thousand_conditions_folded_with_and_or_or_become_one_flat_combination()
    {
        var and = Assert.IsType<AndFilter>(Fold((a, b) => a & b));
        var or = Assert.IsType<OrFilter>(Fold((a, b) => a | b));

        Assert.Equal(Conditions, and.Operands.Count);
        Assert.Equal(Conditions, or.Operands.Count);
        Assert.All(and.Operands, o => Assert.IsType<EqualsFilter>(o));
        Assert.Equal(Filter.Eq("n", 7), or.Operands[7]);
    }

    [Fact]
    public void The_in_memory_evaluator_answers_a_fold_of_twelve_thousand_conditions()
    {
        using var seven = JsonDocument.Parse("""{"n": 7}""");
        using var none = JsonDocument.Parse("""{"n": -1}""");

        Assert.True(PayloadFilterEvaluator.Matches(Fold((a, b) => a | b), seven.RootElement));
        Assert.False(PayloadFilterEvaluator.Matches(Fold((a, b) => a | b), none.RootElement));
        Assert.False(PayloadFilterEvaluator.Matches(Fold((a, b) => a & b), seven.RootElement));
    }

    [Fact]
    public void Alternating_and_and_not_past_the_limit_is_refused_with_an_ArgumentException_naming_the_limit()
    {
        var filter = Filter.Eq("n", 1);
        var built = 0;
        var error = Assert.Throws<ArgumentException>(() =>
        {
            for (var i = 0; i < Conditions; i++)
            {
                filter = !(filter & Filter.Eq("m", i));
                built++;
            }
        });

        Assert.Contains(Filter.MaxDepth.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        // Each step nests two levels (an And, then a Not) on a condition of depth 1.
        Assert.Equal((Filter.MaxDepth - 1) / 2, built);
    }

    [Fact]
    public void A_filter_exactly_at_the_limit_is_accepted_and_one_level_more_is_not()
    {
        var atLimit = Assert.IsType<NotFilter>(Filter.Not(HandBuiltChain(Filter.MaxDepth - 2)));
        using var payload = JsonDocument.Parse("""{"n": 1, "m": 1}""");

        // 31 Nots in the chain, one more on top: an even number of negations of a condition that holds.
        Assert.True(PayloadFilterEvaluator.Matches(atLimit, payload.RootElement));
        Assert.Throws<ArgumentException>(() => Filter.Not(atLimit));
    }

    [Fact]
    public async Task A_hand_built_filter_twelve_thousand_levels_deep_is_refused_by_the_evaluator_the_store_and_Fields()
    {
        var deep = HandBuiltChain(Conditions);
        using var payload = JsonDocument.Parse("""{"n": 1}""");
        using var factory = new InMemoryAdaptiveStoreFactory();
        var store = factory.GetStore<long>("deep", new EmbeddingLayout(4, 2));
        await store.EnsureSchemaAsync();
        await store.UpsertAsync([new VectorRecord<long>(1, new float[] { 1, 0, 0, 0 }, payload.RootElement)]);

        Assert.Throws<ArgumentException>(() => PayloadFilterEvaluator.Matches(deep, payload.RootElement));
        Assert.Throws<ArgumentException>(() => deep.Fields());
        await Assert.ThrowsAsync<ArgumentException>(() => store.CountAsync(deep));
        await Assert.ThrowsAsync<ArgumentException>(() => store.SearchAsync(new float[] { 1, 0, 0, 0 }, new SearchOptions { K = 1, Filter = deep }));
    }

    [Fact]
    public void A_filter_that_contains_itself_is_refused_instead_of_looping()
    {
        var operands = new List<Filter> { new EqualsFilter("n", 1) };
        var cycle = new AndFilter(operands);
        operands.Add(cycle);

        Assert.Throws<ArgumentException>(() => cycle.Fields());
    }
}
