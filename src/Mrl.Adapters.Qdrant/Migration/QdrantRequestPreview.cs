using Google.Protobuf;

namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>A call a migration would make, as a dry run shows it.</summary>
/// <param name="Call">The gRPC method, e.g. <c>qdrant.Points/CreateVectorName</c>.</param>
/// <param name="Body">The request message in protobuf's JSON form, or null when it depends on the points read (see <paramref name="Note"/>).</param>
/// <param name="Note">How often the call is made and what its message holds, for calls repeated per page; otherwise null.</param>
public sealed record QdrantRequestPreview(string Call, string? Body, string? Note)
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false));

    internal static QdrantRequestPreview From(string call, IMessage request, string? note = null) =>
        new(call, Formatter.Format(request), note);

    /// <summary>The call, then the note and the body on their own lines.</summary>
    public override string ToString()
    {
        var text = Call;
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
