using System.Text.Json;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// The special tokens a <c>tokenizer.json</c>'s post-processor puts around a single text.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers does not read post-processors for WordPiece and BPE, and its Unigram loader adds them
/// only as a whole; the generator needs them apart from the content, to truncate the content and keep them, so
/// they are read here for every family.
/// </remarks>
internal sealed record SpecialTokenTemplate(IReadOnlyList<int> Prefix, IReadOnlyList<int> Suffix)
{
    public static readonly SpecialTokenTemplate Empty = new([], []);

    /// <summary>Reads the post-processor; <paramref name="idOf"/> maps a token to its id (added tokens, then the vocabulary).</summary>
    /// <exception cref="NotSupportedException">A post-processor that is not a template, BERT's, RoBERTa's, ByteLevel, or a sequence of them.</exception>
    public static SpecialTokenTemplate Read(string path, JsonElement? processor, Func<string, int?> idOf)
    {
        if (processor is not { } p)
        {
            return Empty;
        }

        var type = p.StringProperty("type");
        switch (type)
        {
            case "ByteLevel":
                return Empty;
            case "BertProcessing" or "RobertaProcessing":
                return new([Pair(path, p, "cls", idOf)], [Pair(path, p, "sep", idOf)]);
            case "TemplateProcessing":
                return FromTemplate(path, p, idOf);
            case "Sequence":
                var prefix = new List<int>();
                var suffix = new List<int>();
                if (p.Property("processors") is { ValueKind: JsonValueKind.Array } processors)
                {
                    foreach (var inner in processors.EnumerateArray())
                    {
                        var part = Read(path, inner, idOf);
                        prefix.AddRange(part.Prefix);
                        suffix.AddRange(part.Suffix);
                    }
                }

                return new(prefix, suffix);
            default:
                throw HuggingFaceTokenizerJson.NotSupported(path,
                    $"its post-processor is {type ?? "untyped"}, not TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel or a Sequence of them");
        }
    }

    private static int Pair(string path, JsonElement processor, string name, Func<string, int?> idOf)
    {
        if (processor.Property(name) is { ValueKind: JsonValueKind.Array } pair && pair.GetArrayLength() == 2)
        {
            if (pair[1].TryGetInt32(out var id))
            {
                return id;
            }

            if (pair[0].ValueKind == JsonValueKind.String && idOf(pair[0].GetString()!) is { } found)
            {
                return found;
            }
        }

        throw HuggingFaceTokenizerJson.NotSupported(path, $"its post-processor's '{name}' is not a [token, id] pair");
    }

    private static SpecialTokenTemplate FromTemplate(string path, JsonElement processor, Func<string, int?> idOf)
    {
        var prefix = new List<int>();
        var suffix = new List<int>();
        var seenSequence = false;
        if (processor.Property("single") is not { ValueKind: JsonValueKind.Array } single)
        {
            throw HuggingFaceTokenizerJson.NotSupported(path, "its TemplateProcessing has no 'single' template");
        }

        foreach (var piece in single.EnumerateArray())
        {
            if (piece.Property("Sequence") is not null)
            {
                seenSequence = true;
                continue;
            }

            var name = piece.Property("SpecialToken") is { } special ? special.StringProperty("id") : null;
            if (name is null)
            {
                throw HuggingFaceTokenizerJson.NotSupported(path, "its template holds a piece that is neither a Sequence nor a SpecialToken");
            }

            (seenSequence ? suffix : prefix).AddRange(SpecialIds(path, processor, name, idOf));
        }

        return new(prefix, suffix);
    }

    private static List<int> SpecialIds(string path, JsonElement processor, string name, Func<string, int?> idOf)
    {
        if (processor.Property("special_tokens") is { } specials && specials.Property(name) is { } entry
            && entry.Property("ids") is { ValueKind: JsonValueKind.Array } ids)
        {
            return ids.EnumerateArray().Select(id => id.GetInt32()).ToList();
        }

        return idOf(name) is { } found
            ? [found]
            : throw HuggingFaceTokenizerJson.NotSupported(path, $"its template names the special token '{name}', which has no id");
    }
}
