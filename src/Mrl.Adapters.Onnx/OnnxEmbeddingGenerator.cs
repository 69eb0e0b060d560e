using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// Turns text into Matryoshka embeddings locally with a BERT-family sentence-embedding model exported to ONNX
/// (Hugging Face Optimum or sentence-transformers exports): tokenize, run, pool, optionally layer-norm, truncate
/// to the requested dimensions and renormalize to unit length.
/// </summary>
/// <remarks>
/// <para>One instance holds one <see cref="InferenceSession"/> and is safe to share between threads; create it once.</para>
/// <para>
/// The work is CPU-bound and runs on the calling thread: the returned task is already complete. Texts are run in
/// batches of <see cref="OnnxEmbeddingGeneratorOptions.BatchSize"/>; cancellation is checked between batches and
/// also stops a batch in progress.
/// </para>
/// <para>
/// Per request, <see cref="EmbeddingGenerationOptions.Dimensions"/> chooses the number of leading dimensions kept
/// (default <see cref="Dimensions"/>), and <see cref="EmbeddingGenerationOptionsExtensions.WithInputType"/> chooses
/// between the query and the document prefix.
/// </para>
/// </remarks>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private const string ProviderName = "onnxruntime";

    private readonly InferenceSession _session;
    private readonly TextTokenizer _tokenizer;
    private readonly ModelSignature _signature;
    private readonly OnnxEmbeddingGeneratorOptions _options;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly RunOptions _uncancellableRun = new();
    private readonly EmbeddingGeneratorMetadata _metadata;
    private int _disposed;

    /// <summary>Loads the model and tokenizer the options name and checks that they fit together.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="DirectoryNotFoundException">The model directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">The model or the tokenizer file is missing.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot load the model file, or a tokenizer.json is not JSON.</exception>
    /// <exception cref="NotSupportedException">A tokenizer.json that does not describe a BERT WordPiece tokenizer.</exception>
    /// <exception cref="OnnxModelSignatureException">The model's inputs or outputs are not a text encoder's, or not those the options name.</exception>
    public OnnxEmbeddingGenerator(OnnxEmbeddingGeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
        var (modelPath, tokenizerPath, modelId) = ModelFiles.Resolve(_options);
        ModelId = modelId;
        _tokenizer = TextTokenizer.Load(tokenizerPath, _options.LowerCase, _options.StripAccents);
        _session = CreateSession(modelPath, _options);
        try
        {
            var signature = ModelSignature.Discover(_session.InputMetadata, _session.OutputMetadata, _options, modelPath);
            _inputNames = signature.InputNames();
            _outputNames = [signature.OutputName];
            _signature = signature.HiddenSize > 0 ? signature : signature.WithHiddenSize(ProbeHiddenSize(signature));
            ModelDimensions = _signature.HiddenSize;
            if (_options.Dimensions > ModelDimensions)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{nameof(OnnxEmbeddingGeneratorOptions)}.{nameof(OnnxEmbeddingGeneratorOptions.Dimensions)} is {_options.Dimensions}, more than the model's {ModelDimensions}."),
                    nameof(options));
            }

            Dimensions = _options.Dimensions ?? ModelDimensions;
            _metadata = new EmbeddingGeneratorMetadata(ProviderName, providerUri: null, ModelId, Dimensions);
        }
        catch
        {
            _session.Dispose();
            _uncancellableRun.Dispose();
            throw;
        }
    }

    /// <summary>The number of dimensions the model produces (its hidden size): the most a request can ask for.</summary>
    public int ModelDimensions { get; }

    /// <summary>The number of dimensions returned when a request does not set <see cref="EmbeddingGenerationOptions.Dimensions"/>.</summary>
    public int Dimensions { get; }

    /// <summary>The model id reported on every embedding.</summary>
    public string ModelId { get; }

    /// <summary>
    /// Loads <c>model.onnx</c> (or <c>onnx/model.onnx</c>) and <c>vocab.txt</c> (or else <c>tokenizer.json</c>) from a
    /// folder laid out as Hugging Face repositories and Optimum exports are. Paths set in <paramref name="options"/> win
    /// and are read relative to the folder; the caller's options object is not changed.
    /// </summary>
    /// <inheritdoc cref="OnnxEmbeddingGenerator(OnnxEmbeddingGeneratorOptions)" path="/exception"/>
    public static OnnxEmbeddingGenerator FromDirectory(string directory, OnnxEmbeddingGeneratorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        var settings = options?.Clone() ?? new OnnxEmbeddingGeneratorOptions();
        settings.ModelDirectory = directory;
        return new OnnxEmbeddingGenerator(settings);
    }

    /// <summary>Embeds each text; the embeddings come back in the order of the texts, each of unit length.</summary>
    /// <exception cref="ArgumentException">
    /// No texts, a null, empty or blank text, <see cref="EmbeddingGenerationOptions.Dimensions"/> outside 1 to
    /// <see cref="ModelDimensions"/>, or an unknown input type.
    /// </exception>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var started = Timer is null ? 0 : Stopwatch.GetTimestamp();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var texts = CheckTexts(values);
        var dimensions = ResolveDimensions(options);
        var prefix = ResolvePrefix(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }

        try
        {
            var embeddings = Generate(texts, prefix, dimensions, cancellationToken);
            Timer?.AddCall(started);
            return Task.FromResult(embeddings);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }
        catch (Exception exception)
        {
            // Not swallowed: failures reach the caller through the task, as from any asynchronous method.
            return Task.FromException<GeneratedEmbeddings<Embedding<float>>>(exception);
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(EmbeddingGeneratorMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Releases the inference session.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _session.Dispose();
        _uncancellableRun.Dispose();
    }

    internal ModelSignature Signature => _signature;

    internal TextTokenizer Tokenizer => _tokenizer;

    /// <summary>When set, times every call and the model runs within it; for benchmarks.</summary>
    internal GenerationTimer? Timer { get; set; }

    /// <summary>The task prefix for a request: the query or the document prefix, or null.</summary>
    internal string? ResolvePrefix(EmbeddingGenerationOptions? options)
    {
        var prefix = (options.GetInputType() ?? _options.DefaultInputType) == EmbeddingInputType.Query
            ? _options.QueryPrefix
            : _options.DocumentPrefix;
        return string.IsNullOrEmpty(prefix) ? null : prefix;
    }

    /// <summary>Tokenizes one batch into the model's input tensors.</summary>
    internal EncoderBatch Tokenize(IReadOnlyList<string> texts, int start, int count, string? prefix) =>
        EncoderBatch.Create(_tokenizer, texts, start, count, prefix, _options.MaxSequenceLength, _signature.TokenTypeIdsName is not null);

    /// <summary>Runs the model on a batch and returns its one requested output.</summary>
    internal IDisposableReadOnlyCollection<OrtValue> Run(EncoderBatch batch, RunOptions runOptions)
    {
        try
        {
            return _session.Run(runOptions, _inputNames, batch.Inputs, _outputNames);
        }
        catch (OnnxRuntimeException exception) when (!runOptions.Terminate)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime failed on a batch of {batch.Count} texts of up to {batch.SequenceLength} tokens: {exception.Message} " +
                $"If the model has fewer positions than {nameof(OnnxEmbeddingGeneratorOptions.MaxSequenceLength)} ({_options.MaxSequenceLength}), lower it."),
                exception);
        }
    }

    /// <summary>Pools, optionally layer-norms, truncates and normalizes each row of the model's output into an embedding.</summary>
    internal void Pool(EncoderBatch batch, OrtValue output, int dimensions, int firstIndex, GeneratedEmbeddings<Embedding<float>> into, DateTimeOffset createdAt)
    {
        var hidden = _signature.HiddenSize;
        CheckOutputShape(output.GetTensorTypeAndShape().Shape, batch);
        var data = output.GetTensorDataAsSpan<float>();
        var buffer = ArrayPool<float>.Shared.Rent(hidden);
        try
        {
            var scratch = buffer.AsSpan(0, hidden);
            var rowStride = _signature.OutputIsPooled ? hidden : batch.SequenceLength * hidden;
            for (var row = 0; row < batch.Count; row++)
            {
                var states = data.Slice(row * rowStride, rowStride);
                ReadOnlySpan<float> pooled;
                if (_options.Pooling == OnnxPooling.Mean)
                {
                    EmbeddingPooling.Mean(states, batch.Lengths[row], scratch);
                    pooled = scratch;
                }
                else
                {
                    // Cls reads the first token's state, ModelOutput the whole (already pooled) row.
                    pooled = states[..hidden];
                }

                if (_options.LayerNormBeforeTruncation)
                {
                    if (!pooled.Overlaps(scratch))
                    {
                        pooled.CopyTo(scratch);
                    }

                    EmbeddingPooling.LayerNorm(scratch);
                    pooled = scratch;
                }

                var vector = new float[dimensions];
                if (!VectorMath.TryNormalize(pooled[..dimensions], vector))
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                        $"The model's embedding of values[{firstIndex + row}] is zero or not finite in its first {dimensions} dimensions, so it cannot be normalized."));
                }

                into.Add(new Embedding<float>(vector) { ModelId = ModelId, CreatedAt = createdAt });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buffer);
        }
    }

    private GeneratedEmbeddings<Embedding<float>> Generate(IReadOnlyList<string> texts, string? prefix, int dimensions, CancellationToken cancellationToken)
    {
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        var createdAt = DateTimeOffset.UtcNow;
        long tokens = 0;
        var runOptions = cancellationToken.CanBeCanceled ? new RunOptions() : _uncancellableRun;
        try
        {
            // Terminate stops a Run in progress; without it a long batch would finish before cancellation is seen.
            using var registration = cancellationToken.CanBeCanceled
                ? cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions)
                : default;
            for (var start = 0; start < texts.Count; start += _options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(_options.BatchSize, texts.Count - start);
                using var batch = Tokenize(texts, start, count, prefix);
                IDisposableReadOnlyCollection<OrtValue> outputs;
                var runStarted = Timer is null ? 0 : Stopwatch.GetTimestamp();
                try
                {
                    outputs = Run(batch, runOptions);
                    Timer?.AddRun(runStarted);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                using (outputs)
                {
                    Pool(batch, outputs[0], dimensions, start, result, createdAt);
                }

                tokens += batch.TokenCount;
            }
        }
        finally
        {
            if (!ReferenceEquals(runOptions, _uncancellableRun))
            {
                runOptions.Dispose();
            }
        }

        result.Usage = new UsageDetails { InputTokenCount = tokens, TotalTokenCount = tokens };
        return result;
    }

    private static IReadOnlyList<string> CheckTexts(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToArray();
        if (texts.Count == 0)
        {
            throw new ArgumentException("There are no texts to embed: pass at least one.", nameof(values));
        }

        for (var i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(texts[i]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"values[{i}] is {(texts[i] is null ? "null" : "empty or blank")}: there is no text to embed."), nameof(values));
            }
        }

        return texts;
    }

    private int ResolveDimensions(EmbeddingGenerationOptions? options)
    {
        var dimensions = options?.Dimensions ?? Dimensions;
        if (dimensions < 1 || dimensions > ModelDimensions)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{nameof(EmbeddingGenerationOptions)}.{nameof(EmbeddingGenerationOptions.Dimensions)} must be between 1 and the model's {ModelDimensions}, got {dimensions}."),
                nameof(options));
        }

        return dimensions;
    }

    private void CheckOutputShape(ReadOnlySpan<long> shape, EncoderBatch batch)
    {
        long[] expected = _signature.OutputIsPooled
            ? [batch.Count, _signature.HiddenSize]
            : [batch.Count, batch.SequenceLength, _signature.HiddenSize];
        if (!shape.SequenceEqual(expected))
        {
            throw new OnnxModelSignatureException(string.Create(CultureInfo.InvariantCulture,
                $"The model's output '{_signature.OutputName}' has shape [{string.Join(", ", shape.ToArray())}] for a batch of {batch.Count} texts of {batch.SequenceLength} tokens; expected [{string.Join(", ", expected)}]."));
        }
    }

    private int ProbeHiddenSize(ModelSignature signature)
    {
        using var batch = EncoderBatch.Empty(_tokenizer, signature.TokenTypeIdsName is not null);
        using var outputs = _session.Run(_uncancellableRun, _inputNames, batch.Inputs, _outputNames);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        return shape.Length > 0 && shape[^1] is > 0 and <= int.MaxValue
            ? (int)shape[^1]
            : throw new OnnxModelSignatureException(
                $"The model's output '{signature.OutputName}' has shape [{string.Join(", ", shape)}] for one text; its last dimension should be the hidden size.");
    }

    private static InferenceSession CreateSession(string modelPath, OnnxEmbeddingGeneratorOptions options)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel,
            IntraOpNumThreads = options.IntraOpNumThreads,
            InterOpNumThreads = options.InterOpNumThreads,
        };
        try
        {
            return new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException exception)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load the model '{modelPath}': {exception.Message}", exception);
        }
    }
}
