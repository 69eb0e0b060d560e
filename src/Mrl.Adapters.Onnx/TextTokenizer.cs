using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// Turns a text into the ids a Hugging Face encoder takes: the content ids from a Microsoft.ML.Tokenizers
/// tokenizer, truncated as Hugging Face truncates, between the special tokens of the model's template.
/// </summary>
internal sealed class TextTokenizer
{
    // More pieces than any word can give: WordPiece turns words longer than MaxInputCharsPerWord (100) into one [UNK].
    private const int WordMargin = 128;
    private const int StackLimit = 512;

    private readonly Tokenizer _tokenizer;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    public TextTokenizer(Tokenizer tokenizer, TokenizerKind kind, IReadOnlyList<int> prefixIds, IReadOnlyList<int> suffixIds, int paddingTokenId, string source)
    {
        _tokenizer = tokenizer;
        Kind = kind;
        _prefixIds = [.. prefixIds];
        _suffixIds = [.. suffixIds];
        PaddingTokenId = paddingTokenId;
        Source = source;
    }

    public TokenizerKind Kind { get; }

    /// <summary>The file the tokenizer was read from.</summary>
    public string Source { get; }

    /// <summary>The special tokens in front of every text (<c>[CLS]</c>, <c>&lt;s&gt;</c>, <c>&lt;bos&gt;</c>, or none).</summary>
    public ReadOnlySpan<int> PrefixIds => _prefixIds;

    /// <summary>The special tokens after every text (<c>[SEP]</c>, <c>&lt;/s&gt;</c>, <c>&lt;|endoftext|&gt;</c>, or none).</summary>
    public ReadOnlySpan<int> SuffixIds => _suffixIds;

    public int SpecialTokenCount => _prefixIds.Length + _suffixIds.Length;

    public int PaddingTokenId { get; }

    /// <summary>Loads a <c>vocab.txt</c>, a <c>tokenizer.json</c>, or a SentencePiece <c>.model</c>, reading the files beside it for its special tokens.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NotSupportedException">A tokenizer this generator cannot reproduce exactly.</exception>
    public static TextTokenizer Load(string path, bool? lowerCase, bool? stripAccents)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The tokenizer file '{path}' does not exist.", path);
        }

        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return HuggingFaceTokenizerJson.Load(path, lowerCase, stripAccents);
        }

        if (path.EndsWith(".model", StringComparison.OrdinalIgnoreCase))
        {
            return SentencePieceModelFile.Load(path, template: null);
        }

        var lower = lowerCase ?? true;
        var bert = BertTokenizer.Create(path, new BertOptions
        {
            LowerCaseBeforeTokenization = lower,
            RemoveNonSpacingMarks = stripAccents ?? lower,
        });
        return new TextTokenizer(bert, TokenizerKind.WordPiece, [bert.ClassificationTokenId], [bert.SeparatorTokenId], bert.PaddingTokenId, path);
    }

    /// <summary>
    /// Encodes <paramref name="prefix"/> followed by <paramref name="text"/> without special tokens. The first
    /// <paramref name="count"/> ids of the result are the ones to use: at most <paramref name="maxTokens"/>, cut
    /// mid-word if need be, as Hugging Face truncates. <paramref name="truncated"/> says whether any were cut.
    /// </summary>
    public IReadOnlyList<int> EncodeContent(string? prefix, string text, int maxTokens, out int count, out bool truncated)
    {
        var ids = _tokenizer is BertTokenizer bert ? EncodeBert(bert, prefix, text, maxTokens) : EncodeWhole(prefix, text);
        truncated = ids.Count > maxTokens;
        count = Math.Min(ids.Count, maxTokens);
        return ids;
    }

    /// <summary>The ids the model sees for one text: the prefix tokens, the content truncated to fit, the suffix tokens.</summary>
    public int[] Encode(string? prefix, string text, int maxSequenceLength)
    {
        var content = EncodeContent(prefix, text, maxSequenceLength - SpecialTokenCount, out var count, out _);
        var ids = new int[count + SpecialTokenCount];
        _prefixIds.CopyTo(ids, 0);
        for (var i = 0; i < count; i++)
        {
            ids[_prefixIds.Length + i] = content[i];
        }

        _suffixIds.CopyTo(ids, _prefixIds.Length + count);
        return ids;
    }

    // SentencePiece and BPE tokenize the text as a whole: a Unigram segmentation can depend on what follows, so
    // the text is encoded in full and cut afterwards, as Hugging Face does.
    private IReadOnlyList<int> EncodeWhole(string? prefix, string text) =>
        _tokenizer.EncodeToIds(string.IsNullOrEmpty(prefix) ? text : string.Concat(prefix, text));

    private static IReadOnlyList<int> EncodeBert(BertTokenizer tokenizer, string? prefix, string text, int maxTokens)
    {
        var length = (prefix?.Length ?? 0) + text.Length;
        char[]? rented = null;
        Span<char> buffer = length <= StackLimit ? stackalloc char[StackLimit] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            var written = BertTextCleaner.Clean(prefix, buffer);
            written += BertTextCleaner.Clean(text, buffer[written..]);
            var cleaned = buffer[..written];

            // The library's own limit stops before a word that does not fit whole, so ask for a word's worth more
            // and cut here; this also spares tokenizing the rest of a long document.
            var limit = maxTokens > int.MaxValue - WordMargin ? int.MaxValue : maxTokens + WordMargin;
            var ids = tokenizer.EncodeToIds(cleaned, limit, addSpecialTokens: false, out var normalized, out var consumed);
            var complete = consumed >= (normalized?.Length ?? cleaned.Length);
            if (ids.Count <= maxTokens && !complete)
            {
                ids = tokenizer.EncodeToIds(cleaned, addSpecialTokens: false);
            }

            return ids;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }
}
