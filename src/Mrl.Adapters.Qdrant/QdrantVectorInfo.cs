namespace Mrl.Adapters.Qdrant;

/// <summary>One dense vector of an existing Qdrant collection, as <c>qdrant.Collections/Get</c> reports it.</summary>
/// <param name="Size">Its dimensions.</param>
/// <param name="Distance">Its distance as Qdrant names it: <c>Cosine</c>, <c>Dot</c>, <c>Euclid</c> or <c>Manhattan</c>.</param>
/// <param name="HnswM">Its own HNSW <c>m</c> when it overrides the collection's; 0 means no graph.</param>
/// <param name="OnDisk">Whether it is stored on disk, when the config says.</param>
public sealed record QdrantVectorInfo(int Size, string Distance, int? HnswM = null, bool? OnDisk = null);
