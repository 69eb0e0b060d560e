using System.Text.Json;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// What the sentence-transformers and transformers files of a model folder say: the pooling
/// (<c>1_Pooling/config.json</c>, or the folder <c>modules.json</c> names), the prompts
/// (<c>config_sentence_transformers.json</c>), the length limit (<c>sentence_bert_config.json</c>,
/// <c>tokenizer_config.json</c>), the padding side, the architecture and the LoRA task adapters (<c>config.json</c>).
/// </summary>
internal sealed record ModelFolderConfig(
    OnnxPooling? Pooling,
    string? QueryPrompt,
    string? DocumentPrompt,
    int? MaxSequenceLength,
    PaddingSide? PaddingSide,
    string? ModelType,
    int? HiddenSize,
    string? NameOrPath,
    IReadOnlyList<string>? LoraAdaptations)
{
    public static readonly ModelFolderConfig None = new(null, null, null, null, null, null, null, null, null);

    // The names sentence-transformers models give their query and document prompts, most common first.
    private static readonly string[] QueryPromptNames = ["query", "search_query", "retrieval.query"];
    private static readonly string[] DocumentPromptNames = ["document", "passage", "search_document", "retrieval.passage", "corpus"];

    public static ModelFolderConfig Read(string? directory)
    {
        if (directory is null)
        {
            return None;
        }

        var (queryPrompt, documentPrompt) = ReadPrompts(directory);
        var tokenizer = TokenizerConfig.Read(directory);
        using var config = JsonReading.ParseIfExists(Path.Combine(directory, "config.json"), "model config");
        using var sentenceBert = JsonReading.ParseIfExists(Path.Combine(directory, "sentence_bert_config.json"), "sentence-transformers config");
        var maxSequenceLength = sentenceBert?.RootElement.IntProperty("max_seq_length") ?? tokenizer.ModelMaxLength;
        return new ModelFolderConfig(
            ReadPooling(directory),
            queryPrompt,
            documentPrompt,
            maxSequenceLength,
            tokenizer.PaddingSide,
            config?.RootElement.StringProperty("model_type"),
            config?.RootElement.IntProperty("hidden_size"),
            config?.RootElement.StringProperty("_name_or_path"),
            config?.RootElement.StringArrayProperty("lora_adaptations"));
    }

    private static (string? Query, string? Document) ReadPrompts(string directory)
    {
        using var document = JsonReading.ParseIfExists(Path.Combine(directory, "config_sentence_transformers.json"), "sentence-transformers config");
        if (document?.RootElement.Property("prompts") is not { ValueKind: JsonValueKind.Object } prompts)
        {
            return (null, null);
        }

        static string? First(JsonElement prompts, string[] names) =>
            names.Select(name => prompts.StringProperty(name)).FirstOrDefault(prompt => prompt is not null);

        return (First(prompts, QueryPromptNames), First(prompts, DocumentPromptNames));
    }

    private static OnnxPooling? ReadPooling(string directory)
    {
        var folder = "1_Pooling";
        using (var modules = JsonReading.ParseIfExists(Path.Combine(directory, "modules.json"), "sentence-transformers modules"))
        {
            if (modules?.RootElement is { ValueKind: JsonValueKind.Array } list)
            {
                folder = list.EnumerateArray()
                    .Where(module => module.StringProperty("type")?.EndsWith(".Pooling", StringComparison.Ordinal) == true)
                    .Select(module => module.StringProperty("path"))
                    .FirstOrDefault(path => !string.IsNullOrEmpty(path)) ?? folder;
            }
        }

        using var pooling = JsonReading.ParseIfExists(Path.Combine(directory, folder, "config.json"), "pooling config");
        if (pooling is null)
        {
            return null;
        }

        var root = pooling.RootElement;
        return root.BoolProperty("pooling_mode_lasttoken") == true ? OnnxPooling.LastToken
            : root.BoolProperty("pooling_mode_cls_token") == true ? OnnxPooling.Cls
            : root.BoolProperty("pooling_mode_mean_tokens") == true ? OnnxPooling.Mean
            : null;
    }
}
