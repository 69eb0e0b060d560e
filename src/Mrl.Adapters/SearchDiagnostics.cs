namespace Mrl.Adapters;

/// <summary>What one search cost, stage by stage.</summary>
public sealed record SearchDiagnostics
{
    /// <summary>How many candidates pass 1 returned.</summary>
    public int CandidatesFetched { get; init; }

    /// <summary>Time spent in pass 1, including the transfer of the candidates.</summary>
    public TimeSpan Pass1Time { get; init; }

    /// <summary>Time spent rescoring the candidates in process (zero when there was no in-process pass 2).</summary>
    public TimeSpan Pass2Time { get; init; }

    /// <summary>Bytes of vector data pass 1 moved to this process (full vectors for the rerank); 0 when the store cannot tell.</summary>
    public long BytesFetched { get; init; }

    /// <summary>How the full-vector cache served the search; null without a cache.</summary>
    public CacheDiagnostics? Cache { get; init; }

    /// <summary>
    /// The strategy that ran. It differs from the one asked for where a store has no way to run that one (the in-memory
    /// store runs <see cref="SearchStrategy.TwoPassInDatabase"/> as <see cref="SearchStrategy.TwoPass"/>).
    /// </summary>
    public SearchStrategy Strategy { get; init; }

    /// <summary>The name telemetry and reports use: <see cref="SearchStrategyNames.Name"/>, with <c>-cached</c> when a full-vector cache served pass 2.</summary>
    public string StrategyName => Cache is null ? SearchStrategyNames.Name(Strategy) : SearchStrategyNames.CachedName(Strategy);
}
