using System.Globalization;
using System.Text.Json;

namespace Mrl.Adapters.Testing;

/// <summary>Helpers for tests that feed stores hostile text: lone surrogates, control characters, quotes.</summary>
public static class HostileText
{
    /// <summary>Whether the string holds a UTF-16 surrogate without its partner, which no UTF-8 text can carry.</summary>
    public static bool HasLoneSurrogate(string text)
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
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// A payload object with one string field, parsed from JSON text in which every quote, backslash, control character
    /// and surrogate is escaped, so that even a lone surrogate arrives in the payload as it was given.
    /// </summary>
    public static JsonElement Payload(string field, string value)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(value);
        using var document = JsonDocument.Parse("{\"" + Escape(field) + "\":\"" + Escape(value) + "\"}");
        return document.RootElement.Clone();
    }

    private static string Escape(string text) => string.Concat(text.Select(c =>
        c is '"' or '\\' || char.IsControl(c) || char.IsSurrogate(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c.ToString()));
}
