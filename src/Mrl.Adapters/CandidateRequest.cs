namespace Mrl.Adapters;

/// <summary>What the core asks a backend's pass 1 for.</summary>
/// <param name="PrefixQuery">The query's prefix, renormalized where the metric needs it.</param>
/// <param name="Count">How many candidates to return, best first.</param>
/// <param name="Filter">Only records that match; null for all.</param>
/// <param name="IncludeFullVectors">Whether each candidate must carry its full vector (false when there is no pass 2).</param>
/// <param name="EfSearch">The HNSW search breadth the caller asked for, if any; the backend raises it to <paramref name="Count"/>.</param>
public sealed record CandidateRequest(ReadOnlyMemory<float> PrefixQuery, int Count, Filter? Filter, bool IncludeFullVectors, int? EfSearch);
