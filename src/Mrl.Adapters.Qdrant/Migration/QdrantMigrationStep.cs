using Google.Protobuf;
using Qdrant.Client;

namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>One step of a migration plan.</summary>
internal abstract record QdrantMigrationStep;

/// <summary>
/// Make one call: create a vector, a collection or a payload index, or switch an alias. <paramref name="Request"/> is the
/// message the call sends, as the dry run shows it; <paramref name="Send"/> sends it through the client.
/// </summary>
internal sealed record SendStep(string Call, IMessage Request, Func<QdrantClient, QdrantCalls, CancellationToken, Task> Send) : QdrantMigrationStep;

/// <summary>
/// Store <paramref name="Projection"/>'s directions in the side collection <paramref name="Collection"/> (created when
/// missing), unless they are there already; before any key is computed with it.
/// </summary>
internal sealed record StoreProjectionStep(string Collection, PrefixProjection Projection) : QdrantMigrationStep;

/// <summary>Scroll <paramref name="Collection"/> and set each point's prefix vector from its full vector.</summary>
internal sealed record BackfillStep(string Collection, string FullVectorName) : QdrantMigrationStep;

/// <summary>Scroll <paramref name="Source"/> and write each point, with both vectors and its payload, into <paramref name="Target"/>.</summary>
internal sealed record CopyStep(string Source, string? SourceVectorName, string Target) : QdrantMigrationStep;
