using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx.Benchmarks;

/// <summary>
/// The fixture encoder end to end against <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// alone on the very tensors the end-to-end path builds for the same texts, so the difference is the time spent
/// outside the model: checking, tokenizing, building tensors, pooling, normalizing, allocating the results.
/// </summary>
[Config(typeof(EncoderBenchmarkConfig))]
public class EncoderBenchmarks : IDisposable
{
    private OnnxEmbeddingGenerator _generator = null!;
    private string[] _texts = null!;
    private int[] _indexes = null!;
    private EncoderBatch _batch = null!;
    private RunOptions _runOptions = null!;
    private IDisposableReadOnlyCollection<OrtValue> _output = null!;

    private readonly GenerationTimer _timer = new();

    [Params(1, 8, 32)]
    public int Batch { get; set; }

    /// <summary>ONNX Runtime's intra-op threads: 1, or one per core of this 2-core machine.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup(Targets = [nameof(RunOnly), nameof(TokenizeOnly), nameof(PoolOnly)])]
    public void Setup()
    {
        _generator = OnnxEmbeddingGenerator.FromDirectory(FixtureModel.Directory, new OnnxEmbeddingGeneratorOptions
        {
            BatchSize = Batch,
            IntraOpNumThreads = Threads,
        });
        _texts = FixtureModel.Sentences(Batch);
        _indexes = [.. Enumerable.Range(0, Batch)];
        _batch = _generator.Tokenize(_texts, 0, Batch, prefix: null);
        _runOptions = new RunOptions();
        _output = _generator.Run(_batch, _runOptions);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    [GlobalSetup(Target = nameof(EndToEnd))]
    public void SetupTimed()
    {
        Setup();

        // Time only steady-state calls: until tiered compilation has optimized the managed code, it would count
        // against the time outside Run, which is native code and does not warm up the same way.
        var warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < warmUntil)
        {
            EndToEnd();
        }

        _generator.Timer = _timer;
    }

    /// <summary>GenerateAsync on <see cref="Batch"/> texts: one batch, everything included.</summary>
    [Benchmark(Baseline = true)]
    public GeneratedEmbeddings<Embedding<float>> EndToEnd() => _generator.GenerateAsync(_texts).GetAwaiter().GetResult();

    /// <summary>Only the model, on the tensors of the same texts.</summary>
    [Benchmark]
    public int RunOnly()
    {
        using var output = _generator.Run(_batch, _runOptions);
        return output.Count;
    }

    /// <summary>Only tokenizing and building the input tensors.</summary>
    [Benchmark]
    public int TokenizeOnly()
    {
        using var batch = _generator.Tokenize(_texts, 0, Batch, prefix: null);
        return batch.TokenCount;
    }

    /// <summary>Only pooling, normalizing and wrapping the results, from an output computed once.</summary>
    [Benchmark]
    public int PoolOnly()
    {
        var embeddings = new Embedding<float>[Batch];
        _generator.Pool(_batch, _output[0], _generator.Dimensions, _indexes, embeddings, DateTimeOffset.UnixEpoch);
        return embeddings.Length;
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (_timer.Calls > 0)
            {
                // Measured inside the calls BenchmarkDotNet times, its warm-up included: less exposed to noise than
                // comparing the EndToEnd and RunOnly means, which come from different processes.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"// OutsideRun batch={Batch} threads={Threads}: {_timer.OutsideRunShare:P2} of {_timer.CallTime.TotalMilliseconds:N0} ms in {_timer.Calls:N0} calls was outside InferenceSession.Run; " +
                    $"{_timer.PaddingShare:P1} of the positions run were padding ({_timer.Padding:N0} of {_timer.Tokens + _timer.Padding:N0})"));
            }

            _output.Dispose();
            _runOptions.Dispose();
            _batch.Dispose();
            _generator.Dispose();
        }
    }
}
