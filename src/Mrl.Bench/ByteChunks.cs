using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Mrl.Bench;

/// <summary>
/// Byte views of large value arrays, taken a slice at a time: a span of bytes is indexed by an
/// int, so 1,000,000 x 768 floats (3 GB) cannot be one span of bytes.
/// </summary>
internal static class ByteChunks
{
    private const int ChunkBytes = 64 << 20;

    public static void Append<T>(IncrementalHash hash, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        var step = ChunkBytes / Marshal.SizeOf<T>();
        for (var start = 0; start < values.Length; start += step)
        {
            hash.AppendData(MemoryMarshal.AsBytes(values.Slice(start, Math.Min(step, values.Length - start))));
        }
    }

    public static void ReadExactly<T>(Stream stream, Span<T> destination)
        where T : unmanaged
    {
        var step = ChunkBytes / Marshal.SizeOf<T>();
        for (var start = 0; start < destination.Length; start += step)
        {
            stream.ReadExactly(MemoryMarshal.AsBytes(destination.Slice(start, Math.Min(step, destination.Length - start))));
        }
    }
}
