namespace Mrl.Adapters.Qdrant;

/// <summary>
/// The Qdrant collection exists but is not what the store's layout and options describe: a named vector is missing,
/// unnamed, of another size or of another distance. The message lists every difference and what to do about it.
/// </summary>
public sealed class SchemaMismatchException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public SchemaMismatchException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public SchemaMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public SchemaMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a collection and the differences found.</summary>
    /// <param name="collection">The collection that was checked.</param>
    /// <param name="problems">Each difference, as a sentence.</param>
    /// <param name="advice">What the user can do about it.</param>
    public SchemaMismatchException(string collection, IReadOnlyList<string> problems, string advice)
        : base($"Qdrant collection '{collection}' does not match the store's layout: {string.Join(" ", problems ?? [])} {advice}")
    {
        Collection = collection;
        Problems = problems ?? [];
    }

    /// <summary>The collection that was checked.</summary>
    public string? Collection { get; }

    /// <summary>Every difference found, as a sentence each.</summary>
    public IReadOnlyList<string> Problems { get; } = [];
}
