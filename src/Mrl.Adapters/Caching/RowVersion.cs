namespace Mrl.Adapters.Caching;

/// <summary>Row versions with a meaning of their own.</summary>
public static class RowVersion
{
    /// <summary>
    /// The store cannot tell this row's version (a Qdrant point written without the store's write stamp): the cache neither
    /// serves nor keeps its vector, and every search fetches it, as without a cache.
    /// </summary>
    public const long Unknown = long.MinValue;
}
