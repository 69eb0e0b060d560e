using System.Globalization;
using System.Text;

namespace Mrl.Adapters.Onnx;

/// <summary>
/// The part of Hugging Face's BERT text cleaning that Microsoft.ML.Tokenizers' <c>BertTokenizer</c> does differently.
/// </summary>
/// <remarks>
/// Hugging Face turns tab, line feed and carriage return into spaces and drops every other character of a "C"
/// category (format, private use, unassigned, lone surrogates). Microsoft.ML.Tokenizers 2.0.1 drops tab and new
/// lines as control characters, so "one\ntwo" becomes the single word "onetwo", and keeps format characters such
/// as U+00AD SOFT HYPHEN inside words. Cleaning first makes the token ids match the ones the model was trained on;
/// what is left (control characters, accents, case, punctuation) the library handles as Hugging Face does.
/// </remarks>
internal static class BertTextCleaner
{
    /// <summary>Writes the cleaned <paramref name="source"/> into <paramref name="destination"/>, which must be at least as long, and returns the characters written.</summary>
    public static int Clean(ReadOnlySpan<char> source, Span<char> destination)
    {
        var written = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (char.IsAscii(c))
            {
                destination[written++] = c is '\t' or '\n' or '\r' ? ' ' : c;
                continue;
            }

            if (Rune.DecodeFromUtf16(source[i..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                continue;
            }

            if (!IsDropped(Rune.GetUnicodeCategory(rune)))
            {
                source.Slice(i, consumed).CopyTo(destination[written..]);
                written += consumed;
            }

            i += consumed - 1;
        }

        return written;
    }

    private static bool IsDropped(UnicodeCategory category) => category is UnicodeCategory.Format
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate;
}
