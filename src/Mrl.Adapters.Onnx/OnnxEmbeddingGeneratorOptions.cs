using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

/// <summary>Configures an <see cref="OnnxEmbeddingGenerator"/>: which files to load, how to tokenize, pool and truncate, and how ONNX Runtime runs.</summary>
/// <remarks>
/// Name the files with <see cref="ModelDirectory"/> (the generator looks for <c>model.onnx</c> or <c>onnx/model.onnx</c>,
/// and for <c>vocab.txt</c> or else <c>tokenizer.json</c>), or with <see cref="ModelPath"/> and <see cref="TokenizerPath"/>;
/// relative paths are taken from <see cref="ModelDirectory"/> when it is set.
/// The generator copies the options when it is created: changing them later does not affect it.
/// </remarks>
public sealed class OnnxEmbeddingGeneratorOptions
{
    /// <summary>The default for <see cref="MaxSequenceLength"/>, BERT's position limit.</summary>
    public const int DefaultMaxSequenceLength = 512;

    /// <summary>The default for <see cref="BatchSize"/>.</summary>
    public const int DefaultBatchSize = 32;

    /// <summary>A folder holding the model and its tokenizer, as Hugging Face repositories and Optimum exports lay them out.</summary>
    public string? ModelDirectory { get; set; }

    /// <summary>The ONNX model; when null, found in <see cref="ModelDirectory"/>.</summary>
    public string? ModelPath { get; set; }

    /// <summary>
    /// The tokenizer: a BERT WordPiece <c>vocab.txt</c>, a Hugging Face <c>tokenizer.json</c> (WordPiece, Unigram or
    /// byte-level BPE; any path ending in <c>.json</c> is read as one), or a SentencePiece <c>.model</c>. When null, found
    /// in <see cref="ModelDirectory"/>: <c>vocab.txt</c>, else <c>tokenizer.json</c>, else <c>tokenizer.model</c>.
    /// </summary>
    public string? TokenizerPath { get; set; }

    /// <summary>The model id reported on each embedding and in the generator's metadata; defaults to the model folder's name.</summary>
    public string? ModelId { get; set; }

    /// <summary>
    /// A known model whose settings fill in what the options and the folder leave open: a name from
    /// <see cref="OnnxModelProfile.Known"/>, e.g. <c>Qwen/Qwen3-Embedding-0.6B</c>. When null, the profile is detected
    /// from the folder's name or its <c>config.json</c>, if it matches one.
    /// </summary>
    public string? Profile { get; set; }

    /// <summary>
    /// How token states become one vector. When null: as the folder's sentence-transformers pooling config says
    /// (<c>1_Pooling/config.json</c>), else as the model's profile says, else <see cref="OnnxPooling.Mean"/>.
    /// </summary>
    public OnnxPooling? Pooling { get; set; }

    /// <summary>
    /// Where batches are padded. When null: the <c>padding_side</c> of the folder's <c>tokenizer_config.json</c>, else the
    /// profile's, else <see cref="Onnx.PaddingSide.Right"/>. Every pooling reads the right positions on either side;
    /// a model that takes <c>position_ids</c> gets them counted from its first real token.
    /// </summary>
    public PaddingSide? PaddingSide { get; set; }

    /// <summary>
    /// Applies a layer norm without learned scale or bias to the pooled vector before truncation, as
    /// nomic-embed-text-v1.5 prescribes for its Matryoshka dimensions. When null: as the model's profile says, else false.
    /// </summary>
    public bool? LayerNormBeforeTruncation { get; set; }

    /// <summary>
    /// The number of leading dimensions kept, then renormalized to unit length, when a request does not set
    /// <see cref="Microsoft.Extensions.AI.EmbeddingGenerationOptions.Dimensions"/>. Null keeps all of the model's dimensions.
    /// </summary>
    public int? Dimensions { get; set; }

    /// <summary>
    /// The most tokens fed to the model per text, special tokens included; longer texts are truncated, and counted
    /// (see <see cref="OnnxEmbeddingGenerator.TruncatedTexts"/>). When null: the folder's <c>max_seq_length</c>
    /// (<c>sentence_bert_config.json</c>) or <c>model_max_length</c> (<c>tokenizer_config.json</c>), else the
    /// profile's, else 512; never more than <see cref="MaxSequenceLengthCap"/>.
    /// </summary>
    public int? MaxSequenceLength { get; set; }

    /// <summary>
    /// The most tokens a detected <see cref="MaxSequenceLength"/> may be: 8,192 by default, since a model's advertised
    /// limit (32,768 for Qwen3-Embedding) can cost more memory per batch than a machine has. An explicit
    /// <see cref="MaxSequenceLength"/> is not capped.
    /// </summary>
    public int MaxSequenceLengthCap { get; set; } = 8192;

    /// <summary>
    /// Sorts the texts of one call by token count before cutting them into batches, so each batch is padded to a
    /// similar length; the embeddings still come back in the order of the texts. Default true.
    /// </summary>
    public bool SortByLength { get; set; } = true;

    /// <summary>The most texts run through the model at once; each batch is padded to its longest text. Default 32.</summary>
    public int BatchSize { get; set; } = DefaultBatchSize;

    /// <summary>Lower-cases text before WordPiece (uncased models). Null: as the <c>tokenizer.json</c> says, else true.</summary>
    public bool? LowerCase { get; set; }

    /// <summary>Removes accents before WordPiece. Null: as the <c>tokenizer.json</c> says, else the same as <see cref="LowerCase"/>, as in Hugging Face's BERT tokenizer.</summary>
    public bool? StripAccents { get; set; }

    /// <summary>
    /// Put in front of every query, e.g. <c>"search_query: "</c> for nomic-embed-text or <c>"query: "</c> for e5. When
    /// null: the <c>query</c> prompt of the folder's <c>config_sentence_transformers.json</c>, else the profile's.
    /// An empty string puts nothing.
    /// </summary>
    public string? QueryPrefix { get; set; }

    /// <summary>
    /// Put in front of every document, e.g. <c>"search_document: "</c> for nomic-embed-text or <c>"passage: "</c> for e5.
    /// When null: the <c>document</c> (or <c>passage</c>) prompt of the folder's <c>config_sentence_transformers.json</c>,
    /// else the profile's. An empty string puts nothing.
    /// </summary>
    public string? DocumentPrefix { get; set; }

    /// <summary>
    /// For a model that chooses a LoRA task adapter with a <c>task_id</c> input (jina-embeddings-v3): the adapter queries
    /// use, by name. Its id is its index in the model's adapter list, <c>lora_adaptations</c> in the folder's
    /// <c>config.json</c>, else the profile's. Default <c>retrieval.query</c>. Naming a task for a model without a
    /// <c>task_id</c> input is an error.
    /// </summary>
    public string? QueryTask { get; set; }

    /// <summary>
    /// For a model that chooses a LoRA task adapter with a <c>task_id</c> input: the adapter documents use, by name
    /// (see <see cref="QueryTask"/>). Default <c>retrieval.passage</c>; <c>text-matching</c> suits symmetric similarity.
    /// </summary>
    public string? DocumentTask { get; set; }

    /// <summary>The input type of requests that do not name one (see <see cref="EmbeddingGenerationOptionsExtensions.WithInputType"/>). Default <see cref="EmbeddingInputType.Document"/>.</summary>
    public EmbeddingInputType DefaultInputType { get; set; } = EmbeddingInputType.Document;

    /// <summary>ONNX Runtime's threads within one operator; 0 lets it choose (one per physical core).</summary>
    public int IntraOpNumThreads { get; set; }

    /// <summary>ONNX Runtime's threads across operators, used only by its parallel execution mode; 0 lets it choose.</summary>
    public int InterOpNumThreads { get; set; }

    /// <summary>
    /// Where ONNX Runtime runs the model. Default <see cref="OnnxExecutionProvider.Cpu"/>; the GPU providers need the
    /// matching native package in the application (see <see cref="OnnxExecutionProvider"/>).
    /// </summary>
    public OnnxExecutionProvider ExecutionProvider { get; set; } = OnnxExecutionProvider.Cpu;

    /// <summary>The GPU the GPU providers use. Default 0.</summary>
    public int DeviceId { get; set; }

    /// <summary>How far ONNX Runtime rewrites the graph when it loads the model. Default <see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>.</summary>
    public GraphOptimizationLevel GraphOptimizationLevel { get; set; } = GraphOptimizationLevel.ORT_ENABLE_ALL;

    /// <summary>The model input that takes token ids; default <c>input_ids</c>.</summary>
    public string? InputIdsInputName { get; set; }

    /// <summary>The model input that takes the attention mask; default <c>attention_mask</c>.</summary>
    public string? AttentionMaskInputName { get; set; }

    /// <summary>The model input that takes token type ids; default <c>token_type_ids</c> when the model has it, and none otherwise.</summary>
    public string? TokenTypeIdsInputName { get; set; }

    /// <summary>
    /// The model output to pool. Default: for <see cref="OnnxPooling.ModelOutput"/> <c>sentence_embedding</c>, else
    /// <c>pooler_output</c>, else the only <c>[batch, hidden]</c> output; for the other poolings <c>last_hidden_state</c>,
    /// else <c>token_embeddings</c>, else the only <c>[batch, sequence, hidden]</c> output.
    /// </summary>
    public string? OutputName { get; set; }

    internal OnnxEmbeddingGeneratorOptions Clone() => (OnnxEmbeddingGeneratorOptions)MemberwiseClone();

    /// <summary>Checks every setting that does not depend on the model.</summary>
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelDirectory) && (string.IsNullOrWhiteSpace(ModelPath) || string.IsNullOrWhiteSpace(TokenizerPath)))
        {
            throw new ArgumentException(
                $"Set {nameof(ModelDirectory)}, or both {nameof(ModelPath)} and {nameof(TokenizerPath)}, to say where the model and its tokenizer are.");
        }

        if (Pooling is { } pooling && !Enum.IsDefined(pooling))
        {
            throw Invalid(nameof(Pooling), $"is {Pooling}, which is not an {nameof(OnnxPooling)} value.");
        }

        if (PaddingSide is { } side && !Enum.IsDefined(side))
        {
            throw Invalid(nameof(PaddingSide), $"is {side}, which is not a {nameof(Onnx.PaddingSide)} value.");
        }

        if (!Enum.IsDefined(ExecutionProvider) || DeviceId < 0)
        {
            throw Invalid(nameof(ExecutionProvider), $"is {ExecutionProvider} on device {DeviceId}; expected an {nameof(OnnxExecutionProvider)} value and a device id of 0 or more.");
        }

        if (Profile is { } profile && OnnxModelProfile.Find(profile) is null)
        {
            throw Invalid(nameof(Profile), $"is '{profile}', which is not a known model: {string.Join(", ", OnnxModelProfile.Known.Select(p => p.Name))}.");
        }

        if (QueryTask is { } queryTask && string.IsNullOrWhiteSpace(queryTask))
        {
            throw Invalid(nameof(QueryTask), "is blank; name a task adapter, or leave it null for the default.");
        }

        if (DocumentTask is { } documentTask && string.IsNullOrWhiteSpace(documentTask))
        {
            throw Invalid(nameof(DocumentTask), "is blank; name a task adapter, or leave it null for the default.");
        }

        if (MaxSequenceLengthCap < 3)
        {
            throw Invalid(nameof(MaxSequenceLengthCap), $"must be at least 3, got {MaxSequenceLengthCap}.");
        }

        if (!Enum.IsDefined(DefaultInputType))
        {
            throw Invalid(nameof(DefaultInputType), $"is {DefaultInputType}, which is not an {nameof(EmbeddingInputType)} value.");
        }

        if (Dimensions is < 1)
        {
            throw Invalid(nameof(Dimensions), $"must be at least 1 (or null for all of the model's dimensions), got {Dimensions}.");
        }

        // [CLS] and [SEP] take two positions; a text needs at least one more.
        if (MaxSequenceLength is < 3)
        {
            throw Invalid(nameof(MaxSequenceLength), $"must be at least 3 ([CLS], one token, [SEP]), got {MaxSequenceLength}.");
        }

        if (BatchSize < 1)
        {
            throw Invalid(nameof(BatchSize), $"must be at least 1, got {BatchSize}.");
        }

        if (IntraOpNumThreads < 0 || InterOpNumThreads < 0)
        {
            throw Invalid(IntraOpNumThreads < 0 ? nameof(IntraOpNumThreads) : nameof(InterOpNumThreads), "must be 0 (ONNX Runtime chooses) or more.");
        }

        if (!Enum.IsDefined(GraphOptimizationLevel))
        {
            throw Invalid(nameof(GraphOptimizationLevel), $"is {GraphOptimizationLevel}, which is not a {nameof(GraphOptimizationLevel)} value.");
        }
    }

    private static ArgumentException Invalid(string option, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{nameof(OnnxEmbeddingGeneratorOptions)}.{option} {problem}"));
}
