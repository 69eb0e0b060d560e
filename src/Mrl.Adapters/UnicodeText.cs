using System.Text.Json;

namespace Mrl.Adapters;

/// <summary>
/// Text every store can hold must be valid UTF-16: a lone surrogate has no UTF-8 form, so JSON, PostgreSQL and HTTP backends
/// cannot store it, and System.Text.Json cannot read it back (a payload holding one would make every filter on it throw).
/// </summary>
internal static class UnicodeText
{
    /// <summary>The index of the first surrogate that is not half of a pair, or -1.</summary>
    public static int IndexOfLoneSurrogate(string text)
    {
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
