using System.Diagnostics;
using System.Numerics.Tensors;

namespace Mrl.Bench;

/// <summary>
/// The machine's read bandwidth as a scan sees it: a parallel SIMD sum over an array far larger than the caches, one
/// contiguous slice per core, best of several passes. The in-memory pass 1 is measured against it.
/// </summary>
internal static class MemoryBandwidth
{
    public static double MeasureBytesPerSecond(long bytes, int passes = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        var values = GC.AllocateUninitializedArray<float>((int)Math.Min(bytes / sizeof(float), Array.MaxLength));
        var slices = Environment.ProcessorCount;

        // Touch every page first, so that the passes read memory rather than fault it in.
        Parallel.For(0, slices, s => Slice(values, s, slices).Fill(1f));

        var sums = new float[slices];
        var best = 0.0;
        for (var pass = 0; pass < passes; pass++)
        {
            var start = Stopwatch.GetTimestamp();
            Parallel.For(0, slices, s => sums[s] = TensorPrimitives.Sum<float>(Slice(values, s, slices)));
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Max(best, values.LongLength * sizeof(float) / seconds);
        }

        // The sums are checked so that no pass can be optimised away.
        return sums.Sum() > 0 ? best : throw new InvalidOperationException("The bandwidth probe summed to zero.");
    }

    private static Span<float> Slice(float[] values, int slice, int slices)
    {
        var start = (int)((long)values.Length * slice / slices);
        var end = (int)((long)values.Length * (slice + 1) / slices);
        return values.AsSpan(start, end - start);
    }
}
