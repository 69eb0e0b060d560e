using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mrl.Adapters;

/// <summary>
/// Text every store can hold must be valid UTF-16: a lone surrogate has no UTF-8 form, so JSON, PostgreSQL and HTTP backends
/// cannot store it, and System.Text.Json cannot read it back (a payload holding one would make every filter on it throw).
/// Stores use these checks on keys, names and payloads, and tools on what they print.
/// </summary>
public static class UnicodeText
{
    private static readonly SearchValues<char> UnsafeForDisplay = SearchValues.Create(
        Enumerable.Range(0, 0x10000).Select(i => (char)i).Where(IsUnsafeForDisplay).ToArray());

    /// <summary>
    /// Whether a terminal or a line-oriented tool could act on <paramref name="c"/> instead of showing it: C0 and C1
    /// controls (escape sequences that clear the screen, set the window title or write the clipboard with OSC 52; line
    /// breaks that end a SQL comment), DEL, the Unicode line and paragraph separators, and the bidirectional overrides that
    /// make text display in another order than it is read.
    /// </summary>
    public static bool IsUnsafeForDisplay(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    /// <summary><paramref name="text"/> with every character <see cref="IsUnsafeForDisplay"/> written as <c>\uXXXX</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public static string EscapeForDisplay(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.AsSpan().ContainsAny(UnsafeForDisplay))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (IsUnsafeForDisplay(c))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.ToString();
    }

    /// <summary>The index of the first surrogate that is not half of a pair, or -1.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public static int IndexOfLoneSurrogate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether every property name and string in <paramref name="element"/> is valid UTF-16.</summary>
    public static bool IsValid(JsonElement element)
    {
        try
        {
            Read(element);
            return true;
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to unescape a \uD800-style escape that is not half of a pair.
            return false;
        }
    }

    private static void Read(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    _ = property.Name;
                    Read(property.Value);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Read(item);
                }

                break;
            case JsonValueKind.String:
                _ = element.GetString();
                break;
        }
    }
}
