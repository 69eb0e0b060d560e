using System.Buffers;
using Microsoft.ML.Tokenizers;

namespace Mrl.Adapters.Onnx;

/// <summary>Turns a text into the WordPiece ids a BERT-family encoder takes, cleaned and truncated as Hugging Face does.</summary>
internal sealed class TextTokenizer
{
    // More pieces than any word can give: WordPiece turns words longer than MaxInputCharsPerWord (100) into one [UNK].
    private const int WordMargin = 128;
    private const int StackLimit = 512;

    private readonly BertTokenizer _tokenizer;

    private TextTokenizer(BertTokenizer tokenizer)
    {
        _tokenizer = tokenizer;
    }

    public int ClassificationTokenId => _tokenizer.ClassificationTokenId;

    public int SeparatorTokenId => _tokenizer.SeparatorTokenId;

    public int PaddingTokenId => _tokenizer.PaddingTokenId;

    /// <summary>Loads a <c>vocab.txt</c>, or a <c>tokenizer.json</c> when the path ends in <c>.json</c>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NotSupportedException">A <c>tokenizer.json</c> that does not describe a BERT WordPiece tokenizer.</exception>
    public static TextTokenizer Load(string path, bool? lowerCase, bool? stripAccents)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The tokenizer file '{path}' does not exist.", path);
        }

        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return new TextTokenizer(HuggingFaceTokenizerJson.Load(path, lowerCase, stripAccents));
        }

        var lower = lowerCase ?? true;
        return new TextTokenizer(BertTokenizer.Create(path, new BertOptions
        {
            LowerCaseBeforeTokenization = lower,
            RemoveNonSpacingMarks = stripAccents ?? lower,
        }));
    }

    /// <summary>
    /// Encodes <paramref name="prefix"/> followed by <paramref name="text"/> without special tokens. The first
    /// <paramref name="count"/> ids of the result are the ones to use: at most <paramref name="maxTokens"/>, cut
    /// mid-word if need be, as Hugging Face truncates.
    /// </summary>
    public IReadOnlyList<int> EncodeContent(string? prefix, string text, int maxTokens, out int count)
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
            var ids = _tokenizer.EncodeToIds(cleaned, limit, addSpecialTokens: false, out var normalized, out var consumed);
            var complete = consumed >= (normalized?.Length ?? cleaned.Length);
            if (ids.Count < maxTokens && !complete)
            {
                ids = _tokenizer.EncodeToIds(cleaned, addSpecialTokens: false);
            }

            count = Math.Min(ids.Count, maxTokens);
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

    /// <summary>The ids the model sees for one text: <c>[CLS]</c>, the content truncated to fit, <c>[SEP]</c>.</summary>
    public int[] Encode(string? prefix, string text, int maxSequenceLength)
    {
        var content = EncodeContent(prefix, text, maxSequenceLength - 2, out var count);
        var ids = new int[count + 2];
        ids[0] = ClassificationTokenId;
        for (var i = 0; i < count; i++)
        {
            ids[i + 1] = content[i];
        }

        ids[^1] = SeparatorTokenId;
        return ids;
    }
}
