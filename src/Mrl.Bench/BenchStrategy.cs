using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>
/// The strategies a benchmark compares, by the names results carry: the core's <see cref="SearchStrategy"/> names
/// (<see cref="SearchStrategyNames"/>), two-pass with a cold or a warm full-vector cache, and pgvector's binary quantization
/// with a rerank, a baseline the benchmark runs with its own SQL.
/// </summary>
internal static class BenchStrategy
{
    /// <summary>One pass over the full vectors: HNSW in a database, an exact scan in memory.</summary>
    public const string Full = "full";

    /// <summary>
    /// pgvector's binary quantization: HNSW over <c>binary_quantize(embedding)::bit(D)</c> by Hamming distance, the candidates
    /// reranked on the full vectors in the same SQL statement. PostgreSQL only.
    /// </summary>
    public const string BqRerank = "bq-rerank";

    /// <summary>One pass over the prefix alone, no rerank.</summary>
    public const string Prefix = "prefix";

    /// <summary>Pass 1 in the backend, full vectors fetched, rerank in this process.</summary>
    public const string TwoPass = "two-pass";

    /// <summary>Pass 1 and the rerank both in the database.</summary>
    public const string TwoPassInDatabase = "two-pass-db";

    /// <summary>Two-pass with a full-vector cache that starts empty for the measurement.</summary>
    public const string TwoPassCachedCold = "two-pass-cached-cold";

    /// <summary>Two-pass with a full-vector cache warmed with every vector first.</summary>
    public const string TwoPassCachedWarm = "two-pass-cached-warm";

    public static IReadOnlyList<string> All { get; } = [Full, BqRerank, Prefix, TwoPass, TwoPassInDatabase, TwoPassCachedCold, TwoPassCachedWarm];

    /// <summary>
    /// The core strategy a benchmark strategy runs (the cached ones run <see cref="SearchStrategy.TwoPass"/> on a store with a
    /// cache; <see cref="BqRerank"/>, like <see cref="SearchStrategy.TwoPassInDatabase"/>, reranks in the database).
    /// </summary>
    /// <exception cref="ArgumentException">Not a benchmark strategy.</exception>
    public static SearchStrategy SearchStrategyOf(string name) => name switch
    {
        TwoPassCachedCold or TwoPassCachedWarm => SearchStrategy.TwoPass,
        BqRerank => SearchStrategy.TwoPassInDatabase,
        _ when SearchStrategyNames.TryParse(name, out var strategy) => strategy.Value,
        _ => throw new ArgumentException($"'{name}' is not a benchmark strategy.", nameof(name)),
    };

    /// <summary>Parses a comma-separated list; <c>two-pass-cached</c> stands for both the cold and the warm cache.</summary>
    /// <exception cref="ArgumentException">A name is unknown.</exception>
    public static IReadOnlyList<string> Parse(string text)
    {
        var chosen = new List<string>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var lower = name.ToLowerInvariant();
            IEnumerable<string> expanded = lower switch
            {
                "all" => All,
                "two-pass-cached" => [TwoPassCachedCold, TwoPassCachedWarm],
                _ when All.Contains(lower) => [lower],
                _ => throw new ArgumentException($"--strategies: unknown strategy '{name}'; use {string.Join(", ", All)}, two-pass-cached or all."),
            };
            chosen.AddRange(expanded.Where(s => !chosen.Contains(s)));
        }

        return chosen.Count > 0 ? chosen : throw new ArgumentException("--strategies: name at least one strategy.");
    }
}
