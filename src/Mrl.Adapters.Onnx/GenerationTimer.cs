using System.Diagnostics;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// Accumulates the time of whole <see cref="OnnxEmbeddingGenerator.GenerateAsync"/> calls and of the
/// <c>InferenceSession.Run</c> calls inside them, so a benchmark can report the share spent outside the model
/// from the same calls rather than from two separately noisy measurements.
/// </summary>
internal sealed class GenerationTimer
{
    private long _callTicks;
    private long _runTicks;
    private long _calls;

    public long Calls => Interlocked.Read(ref _calls);

    public TimeSpan CallTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _callTicks));

    public TimeSpan RunTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _runTicks));

    /// <summary>1 - run time / call time; 0 before any call.</summary>
    public double OutsideRunShare => Interlocked.Read(ref _callTicks) is > 0 and var calls
        ? 1.0 - (double)Interlocked.Read(ref _runTicks) / calls
        : 0;

    public void AddCall(long startTimestamp)
    {
        Interlocked.Add(ref _callTicks, Stopwatch.GetTimestamp() - startTimestamp);
        Interlocked.Increment(ref _calls);
    }

    public void AddRun(long startTimestamp) => Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - startTimestamp);
}
