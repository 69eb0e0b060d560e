using System.Globalization;

namespace Mrl.Adapters.Qdrant;

/// <summary>The Qdrant versions that change what the adapter may send.</summary>
internal static class QdrantServerVersion
{
    /// <summary>The Query API (<c>qdrant.Points/Query</c> with <c>prefetch</c>) arrived in 1.10; the store needs it.</summary>
    public static readonly Version Minimum = new(1, 10, 0);

    /// <summary>
    /// Collections gained <c>metadata</c> (set by <c>qdrant.Collections/Create</c> and <c>Update</c>, read back in the
    /// collection's config) in 1.16; an older server drops the field unread.
    /// </summary>
    public static readonly Version CollectionMetadata = new(1, 16, 0);

    /// <summary><c>qdrant.Points/CreateVectorName</c> (a named vector added in place) arrived in 1.18.</summary>
    public static readonly Version VectorCreation = new(1, 18, 0);

    /// <summary>Vector params gained <c>memory</c> in 1.19, which replaces the deprecated <c>on_disk</c>.</summary>
    public static readonly Version MemoryPlacement = new(1, 19, 0);

    /// <summary>Parses the <c>version</c> that the health check (<c>qdrant.Qdrant/HealthCheck</c>) reports, e.g. <c>1.19.0</c> or <c>1.19.0-dev</c>.</summary>
    /// <exception cref="QdrantException">The text is not a version.</exception>
    public static Version Parse(string text)
    {
        var core = text.Split('-', '+')[0].TrimStart('v', 'V');
        var parts = core.Split('.');
        if (parts.Length is >= 2 and <= 3 &&
            parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var numbers = parts.Select(p => int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
            return new Version(numbers[0], numbers[1], numbers.Length > 2 ? numbers[2] : 0);
        }

        throw new QdrantException($"Qdrant reported version '{text}', which is not a version number.");
    }
}
