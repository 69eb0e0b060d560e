using System.Buffers;

namespace Mrl.Adapters;

/// <summary>
/// Room for the full vectors of one search's candidates, rented from <see cref="ArrayPool{T}.Shared"/>: a batch of
/// hundreds of candidates is larger than the large-object threshold, and allocating it for every search costs more
/// than the rerank. The batch that carries it is <see cref="CandidateBatch{TKey}.Vectors"/>; the retriever returns it
/// after pass 2. A buffer nobody returns is collected like any array.
/// </summary>
public sealed class CandidateVectorBuffer : IDisposable
{
    private float[]? _array;

    /// <summary>Rents room for <paramref name="count"/> vectors of <paramref name="dimensions"/> values.</summary>
    public CandidateVectorBuffer(int count, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        Dimensions = dimensions;
        _array = ArrayPool<float>.Shared.Rent(Math.Max(1, count * dimensions));
    }

    /// <summary>The values of each vector.</summary>
    public int Dimensions { get; }

    /// <summary>The room for vector <paramref name="index"/>.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was returned.</exception>
    public Memory<float> Slot(int index)
    {
        ObjectDisposedException.ThrowIf(_array is null, this);
        return _array.AsMemory(index * Dimensions, Dimensions);
    }

    /// <summary>Returns the array to the pool; the slots handed out must not be used afterwards.</summary>
    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<float>.Shared.Return(array);
        }
    }
}
