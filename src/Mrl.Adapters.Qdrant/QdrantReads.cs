using System.Net;

namespace Mrl.Adapters.Qdrant;

/// <summary>The reads that both the store and the migrator make before they change anything.</summary>
internal static class QdrantReads
{
    /// <summary>The server version from <c>GET /</c>.</summary>
    public static async Task<Version> ServerVersionAsync(QdrantTransport transport, CancellationToken cancellationToken)
    {
        using var document = await transport.SendAsync(QdrantRequests.ServerVersion(), cancellationToken).ConfigureAwait(false);
        return QdrantResponses.ServerVersion(document.RootElement);
    }

    /// <summary>The info of the collection or alias <paramref name="name"/> (which is <paramref name="collectionName"/> when known), or null when there is none.</summary>
    public static async Task<QdrantCollectionInfo?> CollectionAsync(
        QdrantTransport transport, string name, string? collectionName, CancellationToken cancellationToken)
    {
        try
        {
            var result = await transport.SendForResultAsync(QdrantRequests.GetCollection(name), cancellationToken).ConfigureAwait(false);
            return QdrantResponses.CollectionInfo(name, collectionName ?? name, result);
        }
        catch (QdrantException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
