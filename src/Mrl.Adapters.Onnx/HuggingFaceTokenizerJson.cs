using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// Builds a tokenizer from a Hugging Face <c>tokenizer.json</c>: WordPiece, Unigram (SentencePiece) or byte-level BPE.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers has the algorithms and reads a Unigram <c>tokenizer.json</c> itself, but not a WordPiece
/// or BPE one. For those this reads the settings that map one to one onto the library's options (the vocabulary,
/// the merges, the split regex, the added tokens); for every family it reads the post-processor's special tokens
/// (see <see cref="SpecialTokenTemplate"/>). Whatever the library could not reproduce exactly (other normalizers
/// or pre-tokenizers, BPE options such as ignore_merges) is refused rather than approximated.
/// </remarks>
internal static class HuggingFaceTokenizerJson
{
    // GPT-2's split, which a ByteLevel pre-tokenizer with use_regex applies.
    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static TextTokenizer Load(string path, bool? lowerCase, bool? stripAccents)
    {
        using var document = JsonReading.ParseFile(path, "tokenizer");
        var root = document.RootElement;
        var model = root.Property("model");
        var modelType = model?.StringProperty("type");
        var added = AddedTokens(root);
        switch (modelType)
        {
            case "WordPiece":
                return LoadWordPiece(path, root, model!.Value, lowerCase, stripAccents);
            case "Unigram":
                return LoadUnigram(path, root, model!.Value, added);
            case "BPE" when IsByteLevel(root.Property("pre_tokenizer")):
                return LoadByteLevelBpe(path, root, model!.Value, added);
            case "BPE":
                // SentencePiece-converted BPE (Gemma, Llama 2: Metaspace and byte fallback) is read from the
                // SentencePiece model that ships beside it; this file still gives the special tokens.
                var sentencePiece = Path.Combine(Path.GetDirectoryName(path) ?? ".", "tokenizer.model");
                if (File.Exists(sentencePiece))
                {
                    var vocabulary = model!.Value.Property("vocab");
                    return SentencePieceModelFile.Load(sentencePiece, SpecialTokenTemplate.Read(path, root.Property("post_processor"), IdLookup(added, vocabulary)));
                }

                throw NotSupported(path, "its model is a SentencePiece-style BPE (no ByteLevel pre-tokenizer), which is read from the model's " +
                    "tokenizer.model; put that file beside it");
            default:
                throw NotSupported(path, $"its model is {modelType ?? "missing"}; WordPiece, Unigram and byte-level BPE models can be read");
        }
    }

    internal static NotSupportedException NotSupported(string path, string reason, Exception? inner = null) =>
        new(string.Create(CultureInfo.InvariantCulture, $"The tokenizer '{path}' cannot be used: {reason}."), inner);

    private static TextTokenizer LoadUnigram(string path, JsonElement root, JsonElement model, Dictionary<string, int> added)
    {
        var template = SpecialTokenTemplate.Read(path, root.Property("post_processor"), IdLookup(added, null));
        SentencePieceTokenizer tokenizer;
        try
        {
            using var stream = File.OpenRead(path);
            tokenizer = SentencePieceTokenizer.CreateFromTokenizerJson(stream, addBeginningOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw NotSupported(path, e.Message, e);
        }

        var pad = PaddingId(root) ?? (added.TryGetValue("<pad>", out var padId) ? padId : model.IntProperty("unk_id") ?? 0);
        return new TextTokenizer(tokenizer, TokenizerKind.SentencePieceUnigram, template.Prefix, template.Suffix, pad, path);
    }

    private static TextTokenizer LoadByteLevelBpe(string path, JsonElement root, JsonElement model, Dictionary<string, int> added)
    {
        if (model.BoolProperty("byte_fallback") == true || model.BoolProperty("ignore_merges") == true
            || !string.IsNullOrEmpty(model.StringProperty("continuing_subword_prefix")) || !string.IsNullOrEmpty(model.StringProperty("end_of_word_suffix")))
        {
            throw NotSupported(path, "its BPE model sets byte_fallback, ignore_merges, continuing_subword_prefix or end_of_word_suffix, which byte-level BPE here does not apply");
        }

        if (model.Property("vocab") is not { ValueKind: JsonValueKind.Object } vocab)
        {
            throw NotSupported(path, "its BPE model has no vocab object");
        }

        var vocabulary = vocab.EnumerateObject().Select(entry => KeyValuePair.Create(entry.Name, entry.Value.GetInt32())).ToList();
        var merges = ReadMerges(path, model);
        var pattern = SplitPattern(path, root.Property("pre_tokenizer")!.Value) ?? Gpt2Pattern;
        var normalizer = ReadByteLevelNormalizer(path, root.Property("normalizer"));
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges,
            ByteLevel = true,
            SpecialTokens = added,
            Normalizer = normalizer,
            PreTokenizer = new RegexPreTokenizer(new Regex(pattern, RegexOptions.Compiled), added),
        };
        BpeTokenizer tokenizer;
        try
        {
            tokenizer = BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw NotSupported(path, e.Message, e);
        }

        var template = SpecialTokenTemplate.Read(path, root.Property("post_processor"), IdLookup(added, vocab));
        var pad = PaddingId(root) ?? (template.Suffix.Count > 0 ? template.Suffix[^1] : added.Values.DefaultIfEmpty(0).Min());
        return new TextTokenizer(tokenizer, TokenizerKind.ByteLevelBpe, template.Prefix, template.Suffix, pad, path);
    }

    private static List<string> ReadMerges(string path, JsonElement model)
    {
        if (model.Property("merges") is not { ValueKind: JsonValueKind.Array } merges)
        {
            throw NotSupported(path, "its BPE model has no merges");
        }

        // tokenizers wrote merges as "a b" strings until 0.20 and as ["a", "b"] pairs since; the library takes strings.
        var result = new List<string>(merges.GetArrayLength());
        foreach (var merge in merges.EnumerateArray())
        {
            result.Add(merge.ValueKind switch
            {
                JsonValueKind.String => merge.GetString()!,
                JsonValueKind.Array when merge.GetArrayLength() == 2 => string.Concat(merge[0].GetString(), " ", merge[1].GetString()),
                _ => throw NotSupported(path, $"its merges hold {merge.ValueKind}, not \"a b\" strings or [a, b] pairs"),
            });
        }

        return result;
    }

    private static bool IsByteLevel(JsonElement? preTokenizer) => preTokenizer is { } p && p.StringProperty("type") switch
    {
        "ByteLevel" => true,
        "Sequence" => p.Property("pretokenizers") is { ValueKind: JsonValueKind.Array } inner && inner.EnumerateArray().Any(step => IsByteLevel(step)),
        _ => false,
    };

    /// <summary>The regex that splits the text before byte-level BPE: a Split step's, or GPT-2's when the ByteLevel step splits by itself; null for GPT-2's.</summary>
    private static string? SplitPattern(string path, JsonElement preTokenizer)
    {
        var steps = preTokenizer.StringProperty("type") == "Sequence"
            ? preTokenizer.Property("pretokenizers")!.Value.EnumerateArray().ToList()
            : [preTokenizer];
        string? pattern = null;
        foreach (var step in steps)
        {
            switch (step.StringProperty("type"))
            {
                case "Split":
                    if (step.StringProperty("behavior") != "Isolated" || step.BoolProperty("invert") == true || pattern is not null)
                    {
                        throw NotSupported(path, "its Split pre-tokenizer is not a single Isolated, non-inverted split");
                    }

                    pattern = step.Property("pattern") is { } p
                        ? p.StringProperty("Regex") ?? (p.StringProperty("String") is { } literal ? Regex.Escape(literal) : null)
                        : null;
                    if (pattern is null)
                    {
                        throw NotSupported(path, "its Split pre-tokenizer has no Regex or String pattern");
                    }

                    break;
                case "ByteLevel":
                    if (step.BoolProperty("add_prefix_space") == true)
                    {
                        throw NotSupported(path, "its ByteLevel pre-tokenizer adds a prefix space, which is not applied here");
                    }

                    if (step.BoolProperty("use_regex") != false)
                    {
                        pattern ??= Gpt2Pattern;
                    }

                    break;
                default:
                    throw NotSupported(path, $"its pre-tokenizer has a {step.StringProperty("type") ?? "untyped"} step; byte-level BPE here takes Split and ByteLevel steps");
            }
        }

        return pattern;
    }

    private static UnicodeFormNormalizer? ReadByteLevelNormalizer(string path, JsonElement? normalizer)
    {
        if (normalizer is not { } n)
        {
            return null;
        }

        return n.StringProperty("type") switch
        {
            "NFC" => UnicodeFormNormalizer.FormC,
            "Sequence" when n.Property("normalizers") is { ValueKind: JsonValueKind.Array } steps && steps.GetArrayLength() == 0 => null,
            var type => throw NotSupported(path, $"its normalizer is {type ?? "untyped"}; byte-level BPE here takes none or NFC"),
        };
    }

    private static Dictionary<string, int> AddedTokens(JsonElement root)
    {
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.Property("added_tokens") is { ValueKind: JsonValueKind.Array } tokens)
        {
            foreach (var token in tokens.EnumerateArray())
            {
                if (token.StringProperty("content") is { } content && token.IntProperty("id") is { } id)
                {
                    added[content] = id;
                }
            }
        }

        return added;
    }

    private static Func<string, int?> IdLookup(Dictionary<string, int> added, JsonElement? vocabulary) => token =>
        added.TryGetValue(token, out var id) ? id
        : vocabulary is { ValueKind: JsonValueKind.Object } vocab && vocab.IntProperty(token) is { } fromVocab ? fromVocab
        : null;

    private static int? PaddingId(JsonElement root) => root.Property("padding") is { ValueKind: JsonValueKind.Object } padding ? padding.IntProperty("pad_id") : null;

    private static TextTokenizer LoadWordPiece(string path, JsonElement root, JsonElement wordPiece, bool? lowerCase, bool? stripAccents)
    {
        var settings = new BertOptions
        {
            UnknownToken = wordPiece.StringProperty("unk_token") ?? "[UNK]",
            ContinuingSubwordPrefix = wordPiece.StringProperty("continuing_subword_prefix") ?? "##",
            MaxInputCharsPerWord = wordPiece.IntProperty("max_input_chars_per_word") ?? 100,
        };

        // As in Hugging Face, accents follow lower-casing unless the file or the options say otherwise.
        var (fileLowerCase, fileStripAccents, splitCjk) = ReadBertNormalizer(path, root.Property("normalizer"));
        settings.LowerCaseBeforeTokenization = lowerCase ?? fileLowerCase;
        settings.RemoveNonSpacingMarks = stripAccents ?? fileStripAccents ?? settings.LowerCaseBeforeTokenization;
        settings.IndividuallyTokenizeCjk = splitCjk;

        var preTokenizerType = root.Property("pre_tokenizer")?.StringProperty("type");
        if (preTokenizerType != "BertPreTokenizer")
        {
            throw NotSupported(path, $"its pre-tokenizer is {preTokenizerType ?? "missing"}, not BertPreTokenizer");
        }

        ReadBertSpecialTokens(path, root, settings);

        var vocabulary = ReadWordPieceVocabulary(path, wordPiece);
        BertTokenizer tokenizer;
        try
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', vocabulary)));
            tokenizer = BertTokenizer.Create(stream, settings);
        }
        catch (ArgumentException e)
        {
            throw NotSupported(path, e.Message, e);
        }

        return new TextTokenizer(tokenizer, TokenizerKind.WordPiece, [tokenizer.ClassificationTokenId], [tokenizer.SeparatorTokenId], tokenizer.PaddingTokenId, path);
    }

    private static (bool LowerCase, bool? StripAccents, bool SplitCjk) ReadBertNormalizer(string path, JsonElement? normalizer)
    {
        if (normalizer is not { } n)
        {
            return (false, false, false);
        }

        var type = n.StringProperty("type");
        if (type != "BertNormalizer")
        {
            throw NotSupported(path, $"its normalizer is {type ?? "untyped"}, not BertNormalizer");
        }

        return (n.BoolProperty("lowercase") ?? true, n.BoolProperty("strip_accents"), n.BoolProperty("handle_chinese_chars") ?? true);
    }

    private static void ReadBertSpecialTokens(string path, JsonElement root, BertOptions settings)
    {
        var processor = root.Property("post_processor");
        var type = processor?.StringProperty("type");
        switch (type)
        {
            case "BertProcessing":
                settings.ClassificationToken = FirstString(processor!.Value.Property("cls")) ?? settings.ClassificationToken;
                settings.SeparatorToken = FirstString(processor.Value.Property("sep")) ?? settings.SeparatorToken;
                break;
            case "TemplateProcessing":
                var single = processor!.Value.Property("single") is { ValueKind: JsonValueKind.Array } s ? s.EnumerateArray().ToList() : [];
                var first = single.Count > 0 ? SpecialTokenName(single[0]) : null;
                var last = single.Count > 1 ? SpecialTokenName(single[^1]) : null;
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

        if (root.Property("padding") is { ValueKind: JsonValueKind.Object } padding && padding.StringProperty("pad_token") is { } pad)
        {
            settings.PaddingToken = pad;
        }
    }

    private static string[] ReadWordPieceVocabulary(string path, JsonElement wordPiece)
    {
        if (wordPiece.Property("vocab") is not { ValueKind: JsonValueKind.Object } vocab)
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

    private static string? SpecialTokenName(JsonElement piece) => piece.Property("SpecialToken")?.StringProperty("id");

    private static string? FirstString(JsonElement? pair) =>
        pair is { ValueKind: JsonValueKind.Array } array && array.GetArrayLength() > 0 && array[0].ValueKind == JsonValueKind.String
            ? array[0].GetString()
            : null;
}
