using System.Text;

namespace Mrl.Adapters.Qdrant;

/// <summary>One REST request to Qdrant as the adapter builds it: method, path relative to the base URL (with query), JSON body.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path and query, without a leading slash, e.g. <c>collections/docs/points?wait=true</c>.</param>
/// <param name="Body">The UTF-8 JSON body, or null for requests without one.</param>
internal sealed record QdrantRequest(HttpMethod Method, string Path, ReadOnlyMemory<byte>? Body)
{
    /// <summary>The body as text, or null.</summary>
    public string? BodyText => Body is { } body ? Encoding.UTF8.GetString(body.Span) : null;

    /// <summary>The method and the path as a user reads them: <c>PUT /collections/docs</c>.</summary>
    public override string ToString() => $"{Method.Method} /{Path}";
}
