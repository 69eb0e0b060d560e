namespace Mrl.Bench;

/// <summary>What a benchmark backend can run, and why not when it cannot.</summary>
/// <param name="EfSearch">Whether pass 1 is an HNSW search with a tunable ef_search (false for an exact scan).</param>
/// <param name="MaxEfSearch">The largest ef_search the backend accepts.</param>
/// <param name="Unsupported">Strategies the backend cannot run, each with the reason.</param>
internal sealed record BackendFeatures(bool EfSearch, int MaxEfSearch, IReadOnlyDictionary<string, string> Unsupported);
