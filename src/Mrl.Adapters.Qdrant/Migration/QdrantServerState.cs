namespace Mrl.Adapters.Qdrant.Migration;

/// <summary>What a migration plan is made from: the server's version and the collections and aliases it has.</summary>
/// <param name="Version">The server version (the health check).</param>
/// <param name="Source">The collection to migrate (<c>qdrant.Collections/Get</c>; by alias or by name).</param>
/// <param name="Target">The new-collection path's target when it already exists (an earlier, interrupted run); otherwise null.</param>
/// <param name="Aliases">Every alias and the collection it points to (<c>qdrant.Collections/ListAliases</c>).</param>
public sealed record QdrantServerState(Version Version, QdrantCollectionInfo Source, QdrantCollectionInfo? Target, IReadOnlyDictionary<string, string> Aliases);
