namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>A migration cannot be planned: the server is too old for the path asked for, or the collection is not one it can migrate. The message says why and what to do.</summary>
public sealed class QdrantMigrationException : InvalidOperationException
{
    /// <summary>Creates an exception.</summary>
    public QdrantMigrationException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public QdrantMigrationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public QdrantMigrationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
