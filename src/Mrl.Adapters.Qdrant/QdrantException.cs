using System.Net;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Qdrant answered a request with an error, or with a body that is not what its API documents. The message names the
/// request (method and path) and, when the server sent one, its <c>status.error</c> text; it never contains the API key.
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

    /// <summary>Creates an exception for a failed request.</summary>
    /// <param name="message">What went wrong, naming the request.</param>
    /// <param name="statusCode">The HTTP status the server answered with, if it answered.</param>
    /// <param name="serverError">The server's <c>status.error</c> text, if it sent one.</param>
    public QdrantException(string message, HttpStatusCode? statusCode, string? serverError)
        : base(message)
    {
        StatusCode = statusCode;
        ServerError = serverError;
    }

    /// <summary>The HTTP status the server answered with; null when the failure was not an HTTP error status.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The server's own description of the error (<c>status.error</c>), when it sent one.</summary>
    public string? ServerError { get; }
}
