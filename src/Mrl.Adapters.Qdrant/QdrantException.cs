using Grpc.Core;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Qdrant answered a call with an error, or with an answer that is not what its API documents. The message names the
/// operation and the collection and, when the server sent one, its error text; it never contains the API key.
/// </summary>
public class QdrantException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public QdrantException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public QdrantException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public QdrantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception for a failed call.</summary>
    /// <param name="message">What went wrong, naming the operation and the collection.</param>
    /// <param name="statusCode">The gRPC status the call ended with.</param>
    /// <param name="serverError">The server's own description of the error (the gRPC status detail), if it sent one.</param>
    /// <param name="innerException">The exception the gRPC client threw.</param>
    public QdrantException(string message, StatusCode? statusCode, string? serverError, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ServerError = serverError;
    }

    /// <summary>The gRPC status the call ended with; null when the failure was not a failed call (an unexpected answer).</summary>
    public StatusCode? StatusCode { get; }

    /// <summary>The server's own description of the error (the gRPC status detail), when it sent one.</summary>
    public string? ServerError { get; }
}
