namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>A request a migration would send, as a dry run shows it.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path and query, from the server root, e.g. <c>/collections/docs/vectors/prefix?wait=true</c>.</param>
/// <param name="Body">The JSON body, or null when there is none or it depends on the points read (see <paramref name="Note"/>).</param>
/// <param name="Note">How often the request is sent and what its body holds, for requests repeated per page; otherwise null.</param>
public sealed record QdrantRequestPreview(string Method, string Path, string? Body, string? Note)
{
    internal static QdrantRequestPreview From(QdrantRequest request, string? note = null) =>
        new(request.Method.Method, "/" + request.Path, request.BodyText, note);

    /// <summary>The method and path, then the note and the body on their own lines.</summary>
    public override string ToString()
    {
        var text = $"{Method} {Path}";
        if (Note is not null)
        {
            text += Environment.NewLine + "  # " + Note;
        }

        if (Body is not null)
        {
            text += Environment.NewLine + "  " + Body;
        }

        return text;
    }
}
