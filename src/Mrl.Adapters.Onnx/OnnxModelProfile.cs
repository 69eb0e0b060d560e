namespace Mrl.Adapters.Onnx;

/// <summary>
/// What a known embedding model needs from the encoder, from its model card: pooling, prompts, padding side, its
/// full dimension, the Matryoshka sizes it was trained for and its token limit.
/// </summary>
/// <param name="Name">The model's Hugging Face name, e.g. <c>Qwen/Qwen3-Embedding-0.6B</c>.</param>
/// <param name="Pooling">How its token states become one vector.</param>
/// <param name="Dimensions">Its full embedding dimension.</param>
/// <param name="MatryoshkaDimensions">The prefix sizes it was trained to keep useful, largest first; empty for a model not trained for them.</param>
/// <param name="MaxTokens">The most tokens it takes.</param>
/// <param name="QueryPrompt">Put in front of queries, or null.</param>
/// <param name="DocumentPrompt">Put in front of documents, or null.</param>
/// <param name="PaddingSide">Where batches are padded.</param>
/// <param name="LayerNormBeforeTruncation">Whether a layer norm comes before truncation (nomic-embed-text-v1.5).</param>
/// <param name="ModelType">The <c>model_type</c> in its <c>config.json</c>.</param>
/// <param name="LoraAdaptations">
/// For a model that chooses a LoRA task adapter with a <c>task_id</c> input, the adapters in the order that numbers them
/// (its <c>config.json</c>'s <c>lora_adaptations</c>); null for other models.
/// </param>
public sealed record OnnxModelProfile(
    string Name,
    OnnxPooling Pooling,
    int Dimensions,
    IReadOnlyList<int> MatryoshkaDimensions,
    int MaxTokens,
    string? QueryPrompt,
    string? DocumentPrompt,
    PaddingSide PaddingSide,
    bool LayerNormBeforeTruncation,
    string ModelType,
    IReadOnlyList<string>? LoraAdaptations = null)
{
    private const string QwenInstruction = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:";
    private const string RetrievalInstruction = "Represent this sentence for searching relevant passages: ";

    /// <summary>The models the encoder knows. A model folder is matched by its name, else by its <c>config.json</c> model type and hidden size.</summary>
    public static IReadOnlyList<OnnxModelProfile> Known { get; } =
    [
        new("google/embeddinggemma-300m", OnnxPooling.ModelOutput, 768, [768, 512, 256, 128], 2048,
            "task: search result | query: ", "title: none | text: ", PaddingSide.Right, false, "gemma3_text"),
        new("Qwen/Qwen3-Embedding-0.6B", OnnxPooling.LastToken, 1024, [1024, 512, 256, 128, 64, 32], 32768,
            QwenInstruction, null, PaddingSide.Left, false, "qwen3"),
        new("Qwen/Qwen3-Embedding-4B", OnnxPooling.LastToken, 2560, [2560, 1024, 512, 256, 128, 64, 32], 32768,
            QwenInstruction, null, PaddingSide.Left, false, "qwen3"),
        new("Qwen/Qwen3-Embedding-8B", OnnxPooling.LastToken, 4096, [4096, 2048, 1024, 512, 256, 128, 64, 32], 32768,
            QwenInstruction, null, PaddingSide.Left, false, "qwen3"),
        new("nomic-ai/nomic-embed-text-v1.5", OnnxPooling.Mean, 768, [768, 512, 256, 128, 64], 8192,
            "search_query: ", "search_document: ", PaddingSide.Right, true, "nomic_bert"),
        new("mixedbread-ai/mxbai-embed-large-v1", OnnxPooling.Cls, 1024, [1024, 512, 256, 128, 64], 512,
            RetrievalInstruction, null, PaddingSide.Right, false, "bert"),
        new("Snowflake/snowflake-arctic-embed-m-v1.5", OnnxPooling.Cls, 768, [768, 256], 512,
            RetrievalInstruction, null, PaddingSide.Right, false, "bert"),
        new("Snowflake/snowflake-arctic-embed-l-v2.0", OnnxPooling.Cls, 1024, [1024, 256], 8192,
            "query: ", null, PaddingSide.Right, false, "xlm-roberta"),
        new("intfloat/multilingual-e5-large", OnnxPooling.Mean, 1024, [], 512,
            "query: ", "passage: ", PaddingSide.Right, false, "xlm-roberta"),
        new("BAAI/bge-m3", OnnxPooling.Cls, 1024, [], 8192, null, null, PaddingSide.Right, false, "xlm-roberta"),
        new("jinaai/jina-embeddings-v3", OnnxPooling.Mean, 1024, [1024, 768, 512, 256, 128, 64, 32], 8192,
            "Represent the query for retrieving evidence documents: ", "Represent the document for retrieval: ", PaddingSide.Right, false, "xlm-roberta",
            ["retrieval.query", "retrieval.passage", "separation", "classification", "text-matching"]),
    ];

    /// <summary>The profile whose name, or the part after its owner, is <paramref name="name"/> (any case); null when none is.</summary>
    public static OnnxModelProfile? Find(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return Known.FirstOrDefault(profile => profile.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
            || profile.ShortName.Equals(name, StringComparison.OrdinalIgnoreCase));
    }

    private string ShortName => Name[(Name.IndexOf('/', StringComparison.Ordinal) + 1)..];

    /// <summary>Matches a folder: by a name that ends with a profile's short name, else by a model type and hidden size only one profile has.</summary>
    internal static OnnxModelProfile? Detect(IEnumerable<string?> names, string? modelType, int? hiddenSize)
    {
        foreach (var name in names)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                continue;
            }

            var trimmed = name.TrimEnd('/', '\\');
            var match = Known.FirstOrDefault(profile => trimmed.EndsWith(profile.ShortName, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                return match;
            }
        }

        if (modelType is null)
        {
            return null;
        }

        var candidates = Known.Where(profile => profile.ModelType == modelType && (hiddenSize is null || profile.Dimensions == hiddenSize)).ToList();
        return candidates.Count == 1 ? candidates[0] : null;
    }
}
