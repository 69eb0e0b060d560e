using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// <see cref="VectorSearchOptions{TRecord}"/> with the two-pass knobs. Pass it to
/// <see cref="VectorStoreCollection{TKey, TRecord}.SearchAsync{TInput}"/> of an adaptive collection; a null knob falls
/// back to the collection's default.
/// </summary>
/// <typeparam name="TRecord">The record type.</typeparam>
public class AdaptiveVectorSearchOptions<TRecord> : VectorSearchOptions<TRecord>
{
    /// <summary>Pass 1 fetches <c>(top + Skip) × Oversampling</c> candidates for pass 2.</summary>
    public int? Oversampling { get; set; }

    /// <summary>How the search runs: two passes with the rerank in this process (the default) or in the database, the prefix alone, or the full vectors alone.</summary>
    public SearchStrategy? Strategy { get; set; }

    /// <summary>The HNSW search breadth for pass 1 (pgvector <c>hnsw.ef_search</c>, Qdrant <c>hnsw_ef</c>); raised to the candidate count when lower.</summary>
    public int? EfSearch { get; set; }
}
