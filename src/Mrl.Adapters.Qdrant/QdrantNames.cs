using System.Buffers;
using System.Globalization;

namespace Mrl.Adapters.Qdrant;

/// <summary>Which collection names Qdrant accepts.</summary>
internal static class QdrantNames
{
    /// <summary>The longest collection name Qdrant accepts, in characters (Unicode scalar values).</summary>
    public const int MaxCollectionNameLength = 255;

    // Qdrant refuses these in a collection name (common::validation::validate_collection_name).
    private static readonly SearchValues<char> ForbiddenInCollectionName = SearchValues.Create("<>:\"/\\|?*\0\u001f");

    /// <summary>Why <paramref name="name"/> cannot be a Qdrant collection name, or null when it can.</summary>
    public static string? CollectionNameProblem(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "it is empty";
        }

        if (name is "." or "..")
        {
            return "Qdrant keeps each collection in a directory of its name, and '.' and '..' name the directories around it";
        }

        if (UnicodeText.IndexOfLoneSurrogate(name) is var lone and >= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it is not valid Unicode (a lone surrogate at index {lone})");
        }

        if (name.AsSpan().IndexOfAny(ForbiddenInCollectionName) is var at and >= 0)
        {
            return $"Qdrant does not allow {Describe(name[at])} in a collection name (nor any of < > : \" / \\ | ? * NUL U+001F)";
        }

        var length = CountCharacters(name);
        if (length > MaxCollectionNameLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it has {length} characters, and Qdrant allows at most {MaxCollectionNameLength}");
        }

        return null;
    }

    /// <summary>Throws when <paramref name="name"/> cannot be a Qdrant collection name.</summary>
    /// <exception cref="ArgumentException">The name is empty, too long, not valid Unicode, '.' or '..', or has a character Qdrant refuses.</exception>
    public static void ThrowIfInvalidCollectionName(string name, string paramName)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (CollectionNameProblem(name) is { } problem)
        {
            throw new ArgumentException($"'{name}' cannot be a Qdrant collection name: {problem}.", paramName);
        }
    }

    private static int CountCharacters(string text)
    {
        var count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    private static string Describe(char c) =>
        char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}") : $"'{c}'";
}
