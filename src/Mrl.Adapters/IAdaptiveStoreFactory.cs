namespace Mrl.Adapters;

/// <summary>
/// Named collections of one backend: hands out an <see cref="IAdaptiveStore{TKey}"/> per collection name and manages the
/// collections themselves (list, check, drop). The Microsoft.Extensions.VectorData adapter maps each of its collections
/// onto one store through this interface; pgvector maps a name to a table, Qdrant to a collection, the in-memory backend to
/// a store held by the factory.
/// </summary>
public interface IAdaptiveStoreFactory
{
    /// <summary>The backend's name as OpenTelemetry's <c>db.system.name</c> spells it: <c>postgresql</c>, <c>qdrant</c>, <c>inmemory</c>.</summary>
    string SystemName { get; }

    /// <summary>
    /// A store for collection <paramref name="name"/> with this layout. Creates nothing: the store's
    /// <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/> creates the collection, or checks the one that exists.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not valid for the backend.</exception>
    /// <exception cref="NotSupportedException">The backend does not support <typeparamref name="TKey"/>.</exception>
    IAdaptiveStore<TKey> GetStore<TKey>(string name, EmbeddingLayout layout) where TKey : notnull;

    /// <summary>The names of the collections that exist.</summary>
    IAsyncEnumerable<string> ListCollectionNamesAsync(CancellationToken cancellationToken = default);

    /// <summary>Whether collection <paramref name="name"/> exists.</summary>
    Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Drops collection <paramref name="name"/> and its records; does nothing when it does not exist.</summary>
    Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default);
}
