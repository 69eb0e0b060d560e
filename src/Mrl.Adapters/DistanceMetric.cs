namespace Mrl.Adapters;

/// <summary>How two embeddings are compared. Every score the library returns is "higher is better".</summary>
public enum DistanceMetric
{
    /// <summary>Cosine similarity. Vectors and prefixes are compared after normalization to unit length.</summary>
    Cosine,

    /// <summary>Inner product. Prefixes are renormalized to unit length, as for cosine.</summary>
    DotProduct,

    /// <summary>Euclidean (L2) distance; the score is the negative distance. Prefixes are kept as they are.</summary>
    Euclidean,

    /// <summary>Manhattan (L1) distance, the sum of absolute differences; the score is the negative distance. Prefixes are kept as they are.</summary>
    Manhattan,
}
