namespace Mrl.Adapters;

/// <summary>Where pass 2, the exact rescore of the candidates on the full vectors, happens.</summary>
public enum Rerank
{
    /// <summary>The store fetches the candidates' full vectors and the core rescores them in this process (the default).</summary>
    InProcess,

    /// <summary>The database rescores the candidates itself (a SQL subquery in pgvector, a <c>prefetch</c> query in Qdrant).</summary>
    InDatabase,

    /// <summary>No pass 2: the top k of the prefix search, scored on the prefix.</summary>
    None,
}
