using System.Diagnostics.CodeAnalysis;

namespace Mrl.Adapters;

/// <summary>How a search runs: which vectors pass 1 searches, and where pass 2 rescores the candidates.</summary>
public enum SearchStrategy
{
    /// <summary>Pass 1 on the prefix index, then the candidates' full vectors are fetched and rescored exactly in this process (the default).</summary>
    TwoPass,

    /// <summary>
    /// Pass 1 on the prefix index, and the database rescores the candidates itself (a SQL subquery in pgvector, a
    /// <c>prefetch</c> query in Qdrant). A store without a database runs <see cref="TwoPass"/> instead and says so in
    /// <see cref="SearchDiagnostics.Strategy"/>.
    /// </summary>
    TwoPassInDatabase,

    /// <summary>Pass 1 alone: the top k of the prefix search, scored on the prefix.</summary>
    PrefixOnly,

    /// <summary>
    /// One pass over the full vectors, skipping the prefix: the baseline two-pass retrieval is measured against.
    /// Stores that cannot search the full vectors throw <see cref="NotSupportedException"/>.
    /// </summary>
    FullDimension,
}

/// <summary>The names strategies carry on command lines, in reports and in telemetry: <c>two-pass</c>, <c>two-pass-db</c>, <c>prefix</c>, <c>full</c>.</summary>
public static class SearchStrategyNames
{
    private static readonly (SearchStrategy Strategy, string Name)[] Names =
    [
        (SearchStrategy.TwoPass, "two-pass"),
        (SearchStrategy.TwoPassInDatabase, "two-pass-db"),
        (SearchStrategy.PrefixOnly, "prefix"),
        (SearchStrategy.FullDimension, "full"),
    ];

    // The names with "-cached", made once: a search served by the full-vector cache reports one on every call.
    private static readonly string[] CachedNames = Names.Select(n => n.Name + "-cached").ToArray();

    /// <summary>Every name, in the order of the enum.</summary>
    public static IReadOnlyList<string> All { get; } = Names.Select(n => n.Name).ToArray();

    /// <summary>The name of <paramref name="strategy"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined strategy.</exception>
    public static string Name(SearchStrategy strategy) => Names[IndexOf(strategy)].Name;

    /// <summary><see cref="Name"/> with <c>-cached</c>, for a search whose pass 2 the full-vector cache served.</summary>
    internal static string CachedName(SearchStrategy strategy) => CachedNames[IndexOf(strategy)];

    /// <summary>The strategy named <paramref name="name"/> (case-insensitive; the enum's member names are accepted too).</summary>
    public static bool TryParse(string? name, [NotNullWhen(true)] out SearchStrategy? strategy)
    {
        strategy = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        foreach (var (s, n) in Names)
        {
            if (string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase) || string.Equals(s.ToString(), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                strategy = s;
                return true;
            }
        }

        return false;
    }

    private static int IndexOf(SearchStrategy strategy)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (Names[i].Strategy == strategy)
            {
                return i;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Not a search strategy.");
    }
}
