using System.Globalization;
using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>One point of a sweep: a strategy with its prefix size, oversampling and ef_search.</summary>
/// <param name="Strategy">One of <see cref="BenchStrategy"/>.</param>
/// <param name="PrefixDims">The prefix searched in pass 1; null for <see cref="BenchStrategy.Full"/>.</param>
/// <param name="Oversampling">Candidates = k × oversampling; 1 where there is no pass 2.</param>
/// <param name="EfSearch">The ef_search the backend runs with (already raised to the candidate count); null where the backend has none.</param>
internal sealed record BenchConfiguration(string Strategy, int? PrefixDims, int Oversampling, int? EfSearch)
{
    public SearchOptions ToSearchOptions(int k) =>
        new() { K = k, Oversampling = Oversampling, Strategy = BenchStrategy.SearchStrategyOf(Strategy), EfSearch = EfSearch };

    public override string ToString()
    {
        var text = Strategy;
        if (PrefixDims is { } p)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" p={p}");
        }

        if (Oversampling > 1)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" x{Oversampling}");
        }

        if (EfSearch is { } ef)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" ef={ef}");
        }

        return text;
    }
}
