namespace Mrl.Adapters.Onnx;

/// <summary>What a generator found in its model folder and settled on, and where each setting came from.</summary>
/// <remarks>Each <c>...Source</c> is <c>options</c>, the folder file that gave the value, <c>profile</c>, <c>model output</c> or <c>default</c>.</remarks>
public sealed record OnnxModelDescription
{
    /// <summary>The ONNX model file.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The tokenizer file.</summary>
    public required string TokenizerPath { get; init; }

    /// <summary>The tokenizer algorithm.</summary>
    public required TokenizerKind Tokenizer { get; init; }

    /// <summary>The known model matched, or null.</summary>
    public OnnxModelProfile? Profile { get; init; }

    /// <summary>The pooling used.</summary>
    public required OnnxPooling Pooling { get; init; }

    /// <summary>Where <see cref="Pooling"/> came from.</summary>
    public required string PoolingSource { get; init; }

    /// <summary>The text put in front of queries, or null.</summary>
    public string? QueryPrompt { get; init; }

    /// <summary>The text put in front of documents, or null.</summary>
    public string? DocumentPrompt { get; init; }

    /// <summary>Where the prompts came from.</summary>
    public required string PromptSource { get; init; }

    /// <summary>The most tokens per text, special tokens included.</summary>
    public required int MaxSequenceLength { get; init; }

    /// <summary>Where <see cref="MaxSequenceLength"/> came from.</summary>
    public required string MaxSequenceLengthSource { get; init; }

    /// <summary>Where batches are padded.</summary>
    public required PaddingSide PaddingSide { get; init; }

    /// <summary>Whether a layer norm comes before truncation.</summary>
    public required bool LayerNormBeforeTruncation { get; init; }

    /// <summary>Whether the model is fed position ids.</summary>
    public required bool TakesPositionIds { get; init; }

    /// <summary>The LoRA task adapters of a model with a <c>task_id</c> input, in id order; empty for other models.</summary>
    public IReadOnlyList<string> TaskAdapters { get; init; } = [];

    /// <summary>Where <see cref="TaskAdapters"/> came from (<c>config.json</c> or <c>profile</c>), or null without them.</summary>
    public string? TaskAdaptersSource { get; init; }

    /// <summary>The task adapter fed with queries, or null for a model without a <c>task_id</c> input.</summary>
    public string? QueryTask { get; init; }

    /// <summary>The task adapter fed with documents, or null for a model without a <c>task_id</c> input.</summary>
    public string? DocumentTask { get; init; }

    /// <summary>The model's full dimension.</summary>
    public required int ModelDimensions { get; init; }

    /// <summary>The Matryoshka sizes the profile says the model was trained for; empty without a profile.</summary>
    public IReadOnlyList<int> MatryoshkaDimensions => Profile?.MatryoshkaDimensions ?? [];

    /// <summary>Where ONNX Runtime runs the model.</summary>
    public required OnnxExecutionProvider ExecutionProvider { get; init; }
}
