using Microsoft.Extensions.AI;

namespace Mrl.Adapters.VectorData;

/// <summary>Defaults for every collection an <see cref="AdaptiveVectorStore"/> hands out.</summary>
public sealed class AdaptiveVectorStoreOptions
{
    /// <summary>The generator for vector properties that hold text (or other input) rather than a vector, unless a collection or property sets its own.</summary>
    public IEmbeddingGenerator? EmbeddingGenerator { get; set; }

    /// <summary>Prefix dimensions of every collection; null picks them from each vector's size (see <see cref="AdaptiveVectorStoreCollectionOptions.PrefixDimensions"/>).</summary>
    public int? PrefixDimensions { get; set; }

    /// <summary>Default oversampling of a search. Default 8.</summary>
    public int Oversampling { get; set; } = 8;

    /// <summary>Default strategy of a search. Default <see cref="SearchStrategy.TwoPass"/>.</summary>
    public SearchStrategy Strategy { get; set; } = SearchStrategy.TwoPass;

    /// <summary>Default HNSW search breadth of a search; null lets the store choose.</summary>
    public int? EfSearch { get; set; }
}
