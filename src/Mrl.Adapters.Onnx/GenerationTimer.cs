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
    private long _tokens;
    private long _padding;

    public long Calls => Interlocked.Read(ref _calls);

    public TimeSpan CallTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _callTicks));

    public TimeSpan RunTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _runTicks));

    /// <summary>The tokens run through the model, padding excluded.</summary>
    public long Tokens => Interlocked.Read(ref _tokens);

    /// <summary>The padding positions run through the model.</summary>
    public long Padding => Interlocked.Read(ref _padding);

    /// <summary>Padding / (tokens + padding): the share of the model's work spent on padding; 0 before any run.</summary>
    public double PaddingShare => Tokens + Padding is > 0 and var all ? (double)Padding / all : 0;

    /// <summary>1 - run time / call time; 0 before any call.</summary>
    public double OutsideRunShare => Interlocked.Read(ref _callTicks) is > 0 and var calls
        ? 1.0 - (double)Interlocked.Read(ref _runTicks) / calls
        : 0;

    public void AddCall(long startTimestamp)
    {
        Interlocked.Add(ref _callTicks, Stopwatch.GetTimestamp() - startTimestamp);
        Interlocked.Increment(ref _calls);
    }

    public void AddRun(long startTimestamp, int tokens, int padding)
    {
        Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - startTimestamp);
        Interlocked.Add(ref _tokens, tokens);
        Interlocked.Add(ref _padding, padding);
    }
}
