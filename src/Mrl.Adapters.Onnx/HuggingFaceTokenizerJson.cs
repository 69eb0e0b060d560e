using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// Builds a <see cref="BertTokenizer"/> from a Hugging Face <c>tokenizer.json</c> with a WordPiece model.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers 2.0.1 has no loader for <c>tokenizer.json</c>. A BERT-family file is a WordPiece
/// vocabulary plus a handful of settings that map one to one onto <see cref="BertOptions"/>, so this reads those and
/// hands the vocabulary to the library in <c>vocab.txt</c> form. Any other pipeline (BPE, Unigram, custom
/// normalizers or pre-tokenizers) is refused rather than approximated.
/// </remarks>
internal static class HuggingFaceTokenizerJson
{
    public static BertTokenizer Load(string path, bool? lowerCase, bool? stripAccents)
    {
        using var document = ParseFile(path);
        var root = document.RootElement;

        var model = Property(root, "model");
        var modelType = model is { } m ? StringProperty(m, "type") : null;
        if (model is not { } wordPiece || modelType != "WordPiece")
        {
            throw NotSupported(path, $"its model is {modelType ?? "missing"}, and only WordPiece (BERT-family) tokenizers can be read. " +
                "Microsoft.ML.Tokenizers cannot load tokenizer.json files itself; use the model's vocab.txt if it has one");
        }

        var settings = new BertOptions
        {
            UnknownToken = StringProperty(wordPiece, "unk_token") ?? "[UNK]",
            ContinuingSubwordPrefix = StringProperty(wordPiece, "continuing_subword_prefix") ?? "##",
            MaxInputCharsPerWord = Property(wordPiece, "max_input_chars_per_word") is { ValueKind: JsonValueKind.Number } max ? max.GetInt32() : 100,
        };

        // As in Hugging Face, accents follow lower-casing unless the file or the options say otherwise.
        var (fileLowerCase, fileStripAccents, splitCjk) = ReadNormalizer(path, Property(root, "normalizer"));
        settings.LowerCaseBeforeTokenization = lowerCase ?? fileLowerCase;
        settings.RemoveNonSpacingMarks = stripAccents ?? fileStripAccents ?? settings.LowerCaseBeforeTokenization;
        settings.IndividuallyTokenizeCjk = splitCjk;

        var preTokenizer = Property(root, "pre_tokenizer");
        var preTokenizerType = preTokenizer is { } p ? StringProperty(p, "type") : null;
        if (preTokenizerType != "BertPreTokenizer")
        {
            throw NotSupported(path, $"its pre-tokenizer is {preTokenizerType ?? "missing"}, not BertPreTokenizer");
        }

        ReadSpecialTokens(path, root, settings);

        var vocabulary = ReadVocabulary(path, wordPiece);
        try
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', vocabulary)));
            return BertTokenizer.Create(stream, settings);
        }
        catch (ArgumentException e)
        {
            throw NotSupported(path, e.Message, e);
        }
    }

    private static JsonDocument ParseFile(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The tokenizer file '{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static (bool LowerCase, bool? StripAccents, bool SplitCjk) ReadNormalizer(string path, JsonElement? normalizer)
    {
        if (normalizer is not { } n)
        {
            return (false, false, false);
        }

        var type = StringProperty(n, "type");
        if (type != "BertNormalizer")
        {
            throw NotSupported(path, $"its normalizer is {type ?? "untyped"}, not BertNormalizer");
        }

        return (BoolProperty(n, "lowercase") ?? true, BoolProperty(n, "strip_accents"), BoolProperty(n, "handle_chinese_chars") ?? true);
    }

    private static void ReadSpecialTokens(string path, JsonElement root, BertOptions settings)
    {
        var processor = Property(root, "post_processor");
        var type = processor is { } p ? StringProperty(p, "type") : null;
        switch (type)
        {
            case "BertProcessing":
                settings.ClassificationToken = FirstString(Property(processor!.Value, "cls")) ?? settings.ClassificationToken;
                settings.SeparatorToken = FirstString(Property(processor.Value, "sep")) ?? settings.SeparatorToken;
                break;
            case "TemplateProcessing":
                var single = Property(processor!.Value, "single") is { ValueKind: JsonValueKind.Array } s ? s.EnumerateArray().ToList() : [];
                var first = single.Count > 0 ? SpecialTokenId(single[0]) : null;
                var last = single.Count > 1 ? SpecialTokenId(single[^1]) : null;
                if (first is null || last is null)
                {
                    throw NotSupported(path, "its template does not wrap a text in a special token on each side, as [CLS] ... [SEP]");
                }

                settings.ClassificationToken = first;
                settings.SeparatorToken = last;
                break;
            default:
                throw NotSupported(path, $"its post-processor is {type ?? "missing"}, not BertProcessing or TemplateProcessing");
        }

        if (Property(root, "padding") is { ValueKind: JsonValueKind.Object } padding && StringProperty(padding, "pad_token") is { } pad)
        {
            settings.PaddingToken = pad;
        }
    }

    private static string[] ReadVocabulary(string path, JsonElement wordPiece)
    {
        if (Property(wordPiece, "vocab") is not { ValueKind: JsonValueKind.Object } vocab)
        {
            throw NotSupported(path, "its WordPiece model has no vocab object");
        }

        var tokens = new string[vocab.EnumerateObject().Count()];
        foreach (var entry in vocab.EnumerateObject())
        {
            if (!entry.Value.TryGetInt32(out var id) || id < 0 || id >= tokens.Length || tokens[id] is not null)
            {
                throw NotSupported(path, $"the vocabulary ids are not the numbers 0 to {tokens.Length - 1} once each (token '{entry.Name}' has {entry.Value})");
            }

            if (entry.Name.AsSpan().IndexOfAny('\n', '\r') >= 0)
            {
                throw NotSupported(path, $"the vocabulary holds a token with a line break (id {id})");
            }

            tokens[id] = entry.Name;
        }

        return tokens;
    }

    private static string? SpecialTokenId(JsonElement piece) =>
        Property(piece, "SpecialToken") is { } special ? StringProperty(special, "id") : null;

    private static string? FirstString(JsonElement? pair) =>
        pair is { ValueKind: JsonValueKind.Array } array && array.GetArrayLength() > 0 && array[0].ValueKind == JsonValueKind.String
            ? array[0].GetString()
            : null;

    private static JsonElement? Property(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : null;

    private static string? StringProperty(JsonElement element, string name) =>
        Property(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static bool? BoolProperty(JsonElement element, string name) => Property(element, name) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => null,
    };

    private static NotSupportedException NotSupported(string path, string reason, Exception? inner = null) =>
        new(string.Create(CultureInfo.InvariantCulture, $"The tokenizer '{path}' cannot be used: {reason}."), inner);
}
