namespace Mrl.Adapters.Pgvector;

/// <summary>How the prefix is held in PostgreSQL.</summary>
public enum PrefixStorage
{
    /// <summary>A prefix column next to the full column, filled by a trigger, with an HNSW index on it.</summary>
    Column,

    /// <summary>No new column: an HNSW expression index on <c>l2_normalize(subvector(full, 1, p))::halfvec(p)</c>.</summary>
    Expression,
}

/// <summary>A pgvector column type.</summary>
public enum VectorType
{
    /// <summary><c>halfvec</c>: 2 bytes a value; HNSW indexes up to 4,000 dimensions.</summary>
    HalfVec,

    /// <summary><c>vector</c>: 4 bytes a value; HNSW indexes up to 2,000 dimensions.</summary>
    Vector,
}
