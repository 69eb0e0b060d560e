using System.Text.Json;

namespace Mrl.Adapters.Onnx.Tests;

/// <summary>The SentencePiece and byte-level BPE fixtures under tests/fixtures/onnx, made by make_tokenizer_fixtures.py.</summary>
internal static class TokenizerFixtures
{
    private static readonly JsonSerializerOptions SnakeCase = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private static readonly Lazy<TokenizerReferenceData> Data = new(() =>
        JsonSerializer.Deserialize<TokenizerReferenceData>(File.ReadAllText(Path.Combine(Fixtures.Directory, "tokenizer_references.json")), SnakeCase)
        ?? throw new InvalidOperationException("tokenizer_references.json is empty."));

    public static TokenizerReferenceData References => Data.Value;

    public static TokenizerFamily Family(string name) => References.Families.Single(f => f.Name == name);

    public static string Directory(TokenizerFamily family) => Path.Combine(Fixtures.Directory, family.Directory);

    public static string Shapes => Path.Combine(Fixtures.Directory, "shapes");
}

internal sealed record TokenizerReferenceData(int HiddenSize, int TruncatedMaxSequenceLength, TokenizerFamily[] Families);

internal sealed record TokenizerFamily(string Name, string Directory, bool Causal, TokenizerReferenceText[] Texts, TokenizerReferenceCase[] Cases);

internal sealed record TokenizerReferenceText(string Text, string? Prompt, int[] Ids, int[] IdsTruncated);

internal sealed record TokenizerReferenceCase(string Pooling, string? Prompt, int Dimensions, int? MaxSequenceLength, float[][] Embeddings)
{
    public string Name => $"{Pooling}/{Prompt ?? "no-prompt"}/{Dimensions}d" + (MaxSequenceLength is { } max ? $"/max{max}" : string.Empty);

    public OnnxPooling OnnxPooling => Pooling switch
    {
        "mean" => OnnxPooling.Mean,
        "cls" => OnnxPooling.Cls,
        "last" => OnnxPooling.LastToken,
        _ => throw new InvalidOperationException($"Unknown pooling '{Pooling}' in tokenizer_references.json."),
    };
}
