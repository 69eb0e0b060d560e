using System.Globalization;

namespace Mrl.Adapters.Caching;

/// <summary>The size and format of a full-vector cache.</summary>
public sealed record FullVectorCacheOptions
{
    /// <summary>Creates options for vectors of <paramref name="dimensions"/> values within <paramref name="byteBudget"/> bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The dimensions are not positive, or the budget does not hold one vector.</exception>
    public FullVectorCacheOptions(int dimensions, long byteBudget, CacheStorage storage = CacheStorage.FullPrecision)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        Dimensions = dimensions;
        Storage = storage;
        ByteBudget = byteBudget;
        if (Capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(byteBudget), byteBudget,
                string.Create(CultureInfo.InvariantCulture, $"A budget of {byteBudget} bytes does not hold one vector of {BytesPerEntry} bytes."));
        }
    }

    /// <summary>Values per vector.</summary>
    public int Dimensions { get; }

    /// <summary>The most bytes the cache may hold, bookkeeping included.</summary>
    public long ByteBudget { get; }

    /// <summary>float32 or float16.</summary>
    public CacheStorage Storage { get; }

    /// <summary>Bytes one entry costs: its values, plus key, version and slot bookkeeping (estimated at 48 bytes).</summary>
    public long BytesPerEntry => ((long)Dimensions * (Storage == CacheStorage.HalfPrecision ? 2 : 4)) + EntryOverhead;

    /// <summary>How many vectors fit in the budget.</summary>
    public long Capacity => ByteBudget / BytesPerEntry;

    internal const int EntryOverhead = 48;
}
