using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData;

/// <summary>How one adaptive collection maps its records onto an <see cref="IAdaptiveStore{TKey}"/> and searches it.</summary>
public sealed class AdaptiveVectorStoreCollectionOptions : VectorStoreCollectionOptions
{
    /// <summary>Creates options with the defaults.</summary>
    public AdaptiveVectorStoreCollectionOptions()
    {
    }

    /// <summary>Copies <paramref name="source"/>.</summary>
    public AdaptiveVectorStoreCollectionOptions(AdaptiveVectorStoreCollectionOptions source)
        : base(source)
    {
        ArgumentNullException.ThrowIfNull(source);
        PrefixDimensions = source.PrefixDimensions;
        Oversampling = source.Oversampling;
        Strategy = source.Strategy;
        EfSearch = source.EfSearch;
    }

    /// <summary>
    /// How many leading dimensions of the vector property are indexed for pass 1. Null picks
    /// <see cref="EmbeddingLayout.DefaultPrefixDimensions"/>: the whole vector below
    /// <see cref="EmbeddingLayout.SinglePassBelow"/> dimensions (one pass), otherwise the largest power of two at most a
    /// quarter of the full dimensions, capped at 256 (768 → 128, 1536 and 3072 → 256).
    /// </summary>
    public int? PrefixDimensions { get; set; }

    /// <summary>Default oversampling of a search. Default 8.</summary>
    public int Oversampling { get; set; } = 8;

    /// <summary>Default strategy of a search. Default <see cref="SearchStrategy.TwoPass"/>.</summary>
    public SearchStrategy Strategy { get; set; } = SearchStrategy.TwoPass;

    /// <summary>Default HNSW search breadth of a search; null lets the store choose.</summary>
    public int? EfSearch { get; set; }

    /// <summary>The prefix dimensions for a vector of <paramref name="fullDimensions"/> values.</summary>
    internal int ResolvePrefixDimensions(int fullDimensions) => PrefixDimensions ?? EmbeddingLayout.DefaultPrefixDimensions(fullDimensions);
}
