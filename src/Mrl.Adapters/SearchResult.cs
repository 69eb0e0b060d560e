namespace Mrl.Adapters;

/// <summary>The hits of one search, best first, with what the search cost.</summary>
/// <param name="Hits">At most K hits, ordered by descending score.</param>
/// <param name="Diagnostics">Candidates fetched and time spent in each pass.</param>
public sealed record SearchResult<TKey>(IReadOnlyList<SearchHit<TKey>> Hits, SearchDiagnostics Diagnostics) where TKey : notnull;
