using System.Buffers;

namespace Mrl.Adapters;

/// <summary>
/// Room for the full vectors of one search's candidates, rented from <see cref="ArrayPool{T}.Shared"/>: a batch of
/// hundreds of candidates is larger than the large-object threshold, and allocating it for every search costs more
/// than the rerank. The batch that carries it is <see cref="CandidateBatch{TKey}.Vectors"/>; the retriever returns it
/// after pass 2. A buffer nobody returns is collected like any array.
/// </summary>
/// <remarks>
/// The room is rented in chunks as slots are asked for, each chunk twice the size of the one before: the count a search
/// asks for is only an upper bound (k = 100,000 on a 10-row table returns 10 rows), and renting it up front cost up to
/// 2 GiB per search. A slot handed out stays valid until the buffer is returned, since chunks are never moved.
/// </remarks>
public sealed class CandidateVectorBuffer : IDisposable
{
    private const int FirstChunkVectors = 16;

    private readonly int _count;
    private List<float[]>? _chunks = [];

    /// <summary>Makes room for up to <paramref name="count"/> vectors of <paramref name="dimensions"/> values, rented as slots are used.</summary>
    public CandidateVectorBuffer(int count, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimensions);
        Dimensions = dimensions;
        _count = count;
    }

    /// <summary>The values of each vector.</summary>
    public int Dimensions { get; }

    /// <summary>The room for vector <paramref name="index"/>.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was returned.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative or not below the count the buffer was made for.</exception>
    public Memory<float> Slot(int index)
    {
        var chunks = _chunks;
        ObjectDisposedException.ThrowIf(chunks is null, this);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _count);

        // Chunk c holds FirstChunkVectors << c vectors and starts at FirstChunkVectors * ((1 << c) - 1).
        var chunk = 0;
        var start = 0L;
        while (index >= start + ((long)FirstChunkVectors << chunk))
        {
            start += (long)FirstChunkVectors << chunk;
            chunk++;
        }

        lock (chunks)
        {
            while (chunks.Count <= chunk)
            {
                var chunkStart = FirstChunkVectors * ((1L << chunks.Count) - 1);
                var vectors = Math.Min((long)FirstChunkVectors << chunks.Count, _count - chunkStart);
                chunks.Add(ArrayPool<float>.Shared.Rent(checked((int)(vectors * Dimensions))));
            }

            return chunks[chunk].AsMemory((int)(index - start) * Dimensions, Dimensions);
        }
    }

    /// <summary>Returns the arrays to the pool; the slots handed out must not be used afterwards.</summary>
    public void Dispose()
    {
        var chunks = Interlocked.Exchange(ref _chunks, null);
        if (chunks is null)
        {
            return;
        }

        lock (chunks)
        {
            foreach (var array in chunks)
            {
                ArrayPool<float>.Shared.Return(array);
            }
        }
    }
}
