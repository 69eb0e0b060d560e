using System.Text.Json;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Onnx.Tests;

/// <summary>The files under tests/fixtures/onnx, made by make_fixtures.py.</summary>
internal static class Fixtures
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static readonly Lazy<string> Root = new(FindRoot);
    private static readonly Lazy<ReferenceData> Data = new(LoadReferences);

    public static string Directory => Root.Value;

    /// <summary>input_ids, attention_mask, token_type_ids -> last_hidden_state; vocab.txt.</summary>
    public static string Base => Path.Combine(Root.Value, "base");

    /// <summary>input_ids, attention_mask -> token_embeddings, sentence_embedding; tokenizer.json.</summary>
    public static string Pooled => Path.Combine(Root.Value, "pooled");

    /// <summary>
    /// input_ids, attention_mask, task_id (int64 scalar) -> text_embeds, shaped as jina-embeddings-v3's export; made by
    /// make_task_fixtures.py so the mean-pooled embedding's largest dimension is the task id fed.
    /// </summary>
    public static string TaskAdapters => Path.Combine(Root.Value, "jina-task");

    /// <summary>pixel_values -> logits: not a text encoder.</summary>
    public static string BadModel => Path.Combine(Root.Value, "bad", "model.onnx");

    public static string Vocabulary => Path.Combine(Base, "vocab.txt");

    public static string TokenizerJson => Path.Combine(Pooled, "tokenizer.json");

    public static ReferenceData References => Data.Value;

    public static IReadOnlyList<string> Sentences => References.Sentences.Select(s => s.Text).ToList();

    public static string ModelDirectory(string model) => Path.Combine(Root.Value, model);

    private static string FindRoot() => Path.Combine(TestRepository.Root, "tests", "fixtures", "onnx");

    private static ReferenceData LoadReferences()
    {
        return JsonSerializer.Deserialize<ReferenceData>(File.ReadAllText(Path.Combine(Root.Value, "references.json")), SnakeCase)
            ?? throw new InvalidOperationException("references.json is empty.");
    }
}

internal sealed record ReferenceData(int HiddenSize, int TruncatedMaxSequenceLength, ReferenceSentence[] Sentences, ReferenceText[] TokenizerOnly, ReferenceCase[] Cases);

internal sealed record ReferenceSentence(string Text, int[] Ids, int[] IdsTruncated);

internal sealed record ReferenceText(string Text, int[] Ids);

internal sealed record ReferenceCase(string Model, string Pooling, bool LayerNorm, int Dimensions, int? MaxSequenceLength, float[][] Embeddings)
{
    public string Name => $"{Model}/{Pooling}/{(LayerNorm ? "layer-norm" : "no-layer-norm")}/{Dimensions}d" +
        (MaxSequenceLength is { } max ? $"/max{max}" : string.Empty);

    public OnnxPooling OnnxPooling => Pooling switch
    {
        "mean" => OnnxPooling.Mean,
        "cls" => OnnxPooling.Cls,
        "model" => OnnxPooling.ModelOutput,
        _ => throw new InvalidOperationException($"Unknown pooling '{Pooling}' in references.json."),
    };
}
