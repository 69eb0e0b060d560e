using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Mrl.Adapters.InMemory;

/// <summary>
/// Named in-memory collections, each an <see cref="InMemoryAdaptiveStore{TKey}"/> held by this factory. A collection
/// exists from the first <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/> on one of its stores until
/// <see cref="DeleteCollectionAsync"/>; reads and writes on a collection that does not exist fail.
/// </summary>
public sealed class InMemoryAdaptiveStoreFactory : IAdaptiveStoreFactory, IDisposable
{
    private readonly ConcurrentDictionary<string, IDisposable> _collections = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string SystemName => InMemoryAdaptiveStore<long>.SystemName;

    /// <inheritdoc />
    public IAdaptiveStore<TKey> GetStore<TKey>(string name, EmbeddingLayout layout) where TKey : notnull
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(layout);
        return new CollectionStore<TKey>(this, name, layout);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var name in _collections.Keys.Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return name;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Task.FromResult(_collections.ContainsKey(name));
    }

    /// <inheritdoc />
    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_collections.TryRemove(name, out var store))
        {
            store.Dispose();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var name in _collections.Keys)
        {
            if (_collections.TryRemove(name, out var store))
            {
                store.Dispose();
            }
        }
    }

    private InMemoryAdaptiveStore<TKey> Create<TKey>(string name, EmbeddingLayout layout) where TKey : notnull
    {
        var store = _collections.GetOrAdd(name, static (n, l) => new InMemoryAdaptiveStore<TKey>(l, n), layout);
        if (store is not InMemoryAdaptiveStore<TKey> typed)
        {
            throw new SchemaMismatchException($"The in-memory collection '{name}' holds keys of another type than {typeof(TKey).Name}.");
        }

        if (typed.Layout != layout)
        {
            throw new SchemaMismatchException($"The in-memory collection '{name}' has layout {typed.Layout}, not {layout}.");
        }

        return typed;
    }

    private InMemoryAdaptiveStore<TKey> Existing<TKey>(string name) where TKey : notnull =>
        _collections.TryGetValue(name, out var store) && store is InMemoryAdaptiveStore<TKey> typed
            ? typed
            : throw new InvalidOperationException($"The in-memory collection '{name}' does not exist (with {typeof(TKey).Name} keys); ensure its schema first.");

    // A handle on one named collection: it finds the store on every call, so it sees the collection dropped and created again.
    private sealed class CollectionStore<TKey>(InMemoryAdaptiveStoreFactory factory, string name, EmbeddingLayout layout) : IAdaptiveStore<TKey>
        where TKey : notnull
    {
        public EmbeddingLayout Layout => layout;

        public Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
        {
            factory.Create<TKey>(name, layout);
            return Task.CompletedTask;
        }

        public Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default) =>
            factory.Existing<TKey>(name).UpsertAsync(records, cancellationToken);

        public Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default) =>
            factory.Existing<TKey>(name).DeleteAsync(keys, cancellationToken);

        public Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default) =>
            factory.Existing<TKey>(name).GetAsync(key, cancellationToken);

        public Task<IReadOnlyList<VectorRecord<TKey>>> GetAsync(Filter? filter, int top, RecordQueryOptions? options = null, CancellationToken cancellationToken = default) =>
            factory.Existing<TKey>(name).GetAsync(filter, top, options, cancellationToken);

        public Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default) =>
            factory.Existing<TKey>(name).CountAsync(filter, cancellationToken);

        public Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default) =>
            factory.Existing<TKey>(name).SearchAsync(query, options, cancellationToken);
    }
}
