namespace Mrl.Adapters.Caching;

/// <summary>How a cache stores each value.</summary>
public enum CacheStorage
{
    /// <summary>float32, 4 bytes a value: exact.</summary>
    FullPrecision,

    /// <summary>float16, 2 bytes a value: half the memory; reranking scores move by about 1e-3.</summary>
    HalfPrecision,
}
