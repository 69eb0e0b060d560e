using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// Turns text into Matryoshka embeddings locally with a sentence-embedding model exported to ONNX (Hugging Face
/// Optimum or sentence-transformers exports): tokenize (WordPiece, SentencePiece or byte-level BPE), run, pool,
/// optionally layer-norm, truncate to the requested dimensions and renormalize to unit length. What the options
/// leave open is read from the model folder (pooling, prompts, length limit, padding side) or from the model's
/// profile; <see cref="Description"/> says what was settled on.
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
/// between the query and the document prefix, and for a model with LoRA task adapters (a <c>task_id</c> input, as
/// jina-embeddings-v3's) between the query and the document adapter.
/// </para>
/// </remarks>
public sealed partial class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
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
    private readonly ILogger _logger;
    private readonly OnnxPooling _pooling;
    private readonly PaddingSide _paddingSide;
    private readonly int _maxSequenceLength;
    private readonly bool _layerNorm;
    private readonly string? _queryPrompt;
    private readonly string? _documentPrompt;
    private readonly TaskAdapterInput? _tasks;
    private long _truncatedTexts;
    private int _disposed;

    /// <summary>Loads the model and tokenizer the options name and checks that they fit together.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="DirectoryNotFoundException">The model directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">The model or the tokenizer file is missing.</exception>
    /// <exception cref="InvalidDataException">ONNX Runtime cannot load the model file, or a tokenizer.json is not JSON.</exception>
    /// <exception cref="NotSupportedException">A tokenizer this generator cannot reproduce exactly (see <see cref="TokenizerKind"/>).</exception>
    /// <exception cref="OnnxModelSignatureException">The model's inputs or outputs are not a text encoder's, or not those the options name.</exception>
    /// <exception cref="InvalidOperationException">A GPU execution provider was asked for and its native library is not there.</exception>
    public OnnxEmbeddingGenerator(OnnxEmbeddingGeneratorOptions options, ILogger<OnnxEmbeddingGenerator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.Validate();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var (modelPath, tokenizerPath, modelId) = ModelFiles.Resolve(_options);
        ModelId = modelId;
        _tokenizer = TextTokenizer.Load(tokenizerPath, _options.LowerCase, _options.StripAccents);
        var configDirectory = string.IsNullOrWhiteSpace(_options.ModelDirectory)
            ? Path.GetDirectoryName(tokenizerPath)
            : Path.GetFullPath(_options.ModelDirectory);
        var folder = ModelFolderConfig.Read(configDirectory);
        var profile = _options.Profile is { } named
            ? OnnxModelProfile.Find(named)
            : OnnxModelProfile.Detect([_options.ModelId, folder.NameOrPath, configDirectory], folder.ModelType, folder.HiddenSize);
        _session = CreateSession(modelPath, _options);
        try
        {
            string poolingSource;
            (_pooling, poolingSource) = _options.Pooling is { } pooling ? (pooling, "options")
                : ModelSignature.HasSentenceEmbedding(_session.OutputMetadata) ? (OnnxPooling.ModelOutput, "model output")
                : folder.Pooling is { } folderPooling ? (folderPooling, "1_Pooling/config.json")
                : profile is not null ? (profile.Pooling, "profile")
                : (OnnxPooling.Mean, "default");
            var signature = ModelSignature.Discover(_session.InputMetadata, _session.OutputMetadata, _options, _pooling, modelPath);
            _inputNames = signature.InputNames();
            _outputNames = [signature.OutputName];
            _tasks = TaskAdapterInput.Create(signature, folder.LoraAdaptations, profile, _options, modelPath);
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

            string lengthSource;
            (_maxSequenceLength, lengthSource) = _options.MaxSequenceLength is { } length ? (length, "options")
                : folder.MaxSequenceLength is { } folderLength ? (Math.Min(folderLength, _options.MaxSequenceLengthCap), "sentence_bert_config.json or tokenizer_config.json")
                : profile is not null ? (Math.Min(profile.MaxTokens, _options.MaxSequenceLengthCap), "profile")
                : (Math.Min(OnnxEmbeddingGeneratorOptions.DefaultMaxSequenceLength, _options.MaxSequenceLengthCap), "default");
            if (_maxSequenceLength <= _tokenizer.SpecialTokenCount)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{nameof(OnnxEmbeddingGeneratorOptions)}.{nameof(OnnxEmbeddingGeneratorOptions.MaxSequenceLength)} is {_maxSequenceLength}, which leaves no room beside the tokenizer's {_tokenizer.SpecialTokenCount} special tokens."),
                    nameof(options));
            }

            _paddingSide = _options.PaddingSide ?? folder.PaddingSide ?? profile?.PaddingSide ?? PaddingSide.Right;
            _layerNorm = _options.LayerNormBeforeTruncation ?? profile?.LayerNormBeforeTruncation ?? false;
            var promptSource = _options.QueryPrefix is not null || _options.DocumentPrefix is not null ? "options"
                : folder.QueryPrompt is not null || folder.DocumentPrompt is not null ? "config_sentence_transformers.json"
                : profile is not null ? "profile"
                : "none";
            _queryPrompt = NullIfEmpty(_options.QueryPrefix ?? folder.QueryPrompt ?? profile?.QueryPrompt);
            _documentPrompt = NullIfEmpty(_options.DocumentPrefix ?? folder.DocumentPrompt ?? profile?.DocumentPrompt);
            Description = new OnnxModelDescription
            {
                ModelPath = modelPath,
                TokenizerPath = tokenizerPath,
                Tokenizer = _tokenizer.Kind,
                Profile = profile,
                Pooling = _pooling,
                PoolingSource = poolingSource,
                QueryPrompt = _queryPrompt,
                DocumentPrompt = _documentPrompt,
                PromptSource = promptSource,
                MaxSequenceLength = _maxSequenceLength,
                MaxSequenceLengthSource = lengthSource,
                PaddingSide = _paddingSide,
                LayerNormBeforeTruncation = _layerNorm,
                TakesPositionIds = _signature.PositionIdsName is not null,
                TaskAdapters = _tasks?.Adapters ?? [],
                TaskAdaptersSource = _tasks?.Source,
                QueryTask = _tasks?.QueryTask,
                DocumentTask = _tasks?.DocumentTask,
                ModelDimensions = ModelDimensions,
                ExecutionProvider = _options.ExecutionProvider,
            };
        }
        catch
        {
            _tasks?.Dispose();
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

    /// <summary>What was found in the model folder and settled on: tokenizer, profile, pooling, prompts, length limit, padding.</summary>
    public OnnxModelDescription Description { get; }

    /// <summary>
    /// The texts truncated to <see cref="OnnxModelDescription.MaxSequenceLength"/> so far. Each call that truncates
    /// also logs a warning and reports its count in <see cref="UsageDetails.AdditionalCounts"/> under
    /// <c>truncated_texts</c>; chunking long documents is left to the caller.
    /// </summary>
    public long TruncatedTexts => Interlocked.Read(ref _truncatedTexts);

    /// <summary>
    /// Loads <c>model.onnx</c> (or <c>onnx/model.onnx</c>) and the tokenizer (<c>vocab.txt</c>, else <c>tokenizer.json</c>,
    /// else <c>tokenizer.model</c>) from a
    /// folder laid out as Hugging Face repositories and Optimum exports are. Paths set in <paramref name="options"/> win
    /// and are read relative to the folder; the caller's options object is not changed.
    /// </summary>
    /// <inheritdoc cref="OnnxEmbeddingGenerator(OnnxEmbeddingGeneratorOptions, ILogger{OnnxEmbeddingGenerator})" path="/exception"/>
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
        var inputType = ResolveInputType(options);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<GeneratedEmbeddings<Embedding<float>>>(cancellationToken);
        }

        try
        {
            var embeddings = Generate(texts, inputType, dimensions, cancellationToken);
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
        _tasks?.Dispose();
    }

    private GeneratedEmbeddings<Embedding<float>> Generate(IReadOnlyList<string> texts, EmbeddingInputType inputType, int dimensions, CancellationToken cancellationToken)
    {
        var createdAt = DateTimeOffset.UtcNow;
        var prefix = Prompt(inputType);
        var tokenized = new TokenizedText[texts.Count];
        var order = new int[texts.Count];
        var truncated = 0;
        for (var i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            tokenized[i] = TokenizeText(texts[i], prefix);
            order[i] = i;
            truncated += tokenized[i].Truncated ? 1 : 0;
        }

        if (truncated > 0)
        {
            Interlocked.Add(ref _truncatedTexts, truncated);
            LogMessages.TextsTruncated(_logger, truncated, texts.Count, _maxSequenceLength);
        }

        if (_options.SortByLength)
        {
            // Stable, so texts of equal length keep their order and a call gives the same batches every time.
            order = [.. order.OrderBy(i => tokenized[i].Count)];
        }

        var embeddings = new Embedding<float>[texts.Count];
        var batchTexts = new TokenizedText[Math.Min(_options.BatchSize, texts.Count)];
        long tokens = 0;
        long padding = 0;
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
                var indexes = order.AsSpan(start, count);
                for (var i = 0; i < count; i++)
                {
                    batchTexts[i] = tokenized[indexes[i]];
                }

                using var batch = CreateBatch(batchTexts.AsSpan(0, count));
                IDisposableReadOnlyCollection<OrtValue> outputs;
                var runStarted = Timer is null ? 0 : Stopwatch.GetTimestamp();
                try
                {
                    outputs = Run(batch, runOptions, inputType);
                    Timer?.AddRun(runStarted, batch.TokenCount, batch.PaddingCount);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }

                using (outputs)
                {
                    Pool(batch, outputs[0], dimensions, indexes, embeddings, createdAt);
                }

                tokens += batch.TokenCount;
                padding += batch.PaddingCount;
            }
        }
        finally
        {
            if (!ReferenceEquals(runOptions, _uncancellableRun))
            {
                runOptions.Dispose();
            }
        }

        return new GeneratedEmbeddings<Embedding<float>>(embeddings)
        {
            Usage = new UsageDetails
            {
                InputTokenCount = tokens,
                TotalTokenCount = tokens,
                AdditionalCounts = new() { ["truncated_texts"] = truncated, ["padding_tokens"] = padding },
            },
        };
    }

    private static string? NullIfEmpty(string? text) => string.IsNullOrEmpty(text) ? null : text;

    private string? Prompt(EmbeddingInputType inputType) => inputType == EmbeddingInputType.Query ? _queryPrompt : _documentPrompt;

    /// <summary>The batch's tensors, and the task adapter's id after them when the model takes one.</summary>
    private IReadOnlyCollection<OrtValue> Inputs(EncoderBatch batch, EmbeddingInputType inputType) =>
        _tasks is null ? batch.Inputs : [.. batch.Inputs, _tasks.For(inputType)];

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

}
