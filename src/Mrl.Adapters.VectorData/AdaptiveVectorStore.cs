using System.Runtime.CompilerServices;
using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// A Microsoft.Extensions.VectorData <see cref="VectorStore"/> whose collections are adaptive stores: each collection name
/// becomes one <see cref="IAdaptiveStore{TKey}"/> from the <see cref="IAdaptiveStoreFactory"/> (a pgvector table, a Qdrant
/// collection, an in-memory store), with the layout taken from the record's vector property and the prefix from the options.
/// </summary>
public sealed class AdaptiveVectorStore : VectorStore
{
    private readonly IAdaptiveStoreFactory _storeFactory;
    private readonly AdaptiveVectorStoreOptions _options;
    private readonly VectorStoreMetadata _metadata;

    /// <summary>Creates a vector store over the collections of <paramref name="storeFactory"/>.</summary>
    public AdaptiveVectorStore(IAdaptiveStoreFactory storeFactory, AdaptiveVectorStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(storeFactory);
        _storeFactory = storeFactory;
        _options = options ?? new AdaptiveVectorStoreOptions();
        _metadata = new VectorStoreMetadata { VectorStoreSystemName = storeFactory.SystemName };
    }

    /// <summary>
    /// A collection of <typeparamref name="TRecord"/> records. The returned collection is an
    /// <see cref="AdaptiveVectorStoreCollection{TKey, TRecord}"/>.
    /// </summary>
    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null) =>
        new AdaptiveVectorStoreCollection<TKey, TRecord>(_storeFactory, name, CollectionOptions(definition));

    /// <summary>A collection of dictionary records described by <paramref name="definition"/>; an <see cref="AdaptiveVectorStoreDynamicCollection"/>.</summary>
    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition) =>
        new AdaptiveVectorStoreDynamicCollection(_storeFactory, name, CollectionOptions(definition));

    /// <inheritdoc />
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        try
        {
            await foreach (var name in _storeFactory.ListCollectionNamesAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(name);
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or VectorStoreException))
        {
            throw Failure("ListCollectionNames", null, e);
        }

        foreach (var name in names)
        {
            yield return name;
        }
    }

    /// <inheritdoc />
    public override async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        try
        {
            return await _storeFactory.CollectionExistsAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or ArgumentException))
        {
            throw Failure("CollectionExists", name, e);
        }
    }

    /// <inheritdoc />
    public override async Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        try
        {
            await _storeFactory.DeleteCollectionAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not (OperationCanceledException or ArgumentException))
        {
            throw Failure("EnsureCollectionDeleted", name, e);
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(_storeFactory) ? _storeFactory
            : null;
    }

    private AdaptiveVectorStoreCollectionOptions CollectionOptions(VectorStoreCollectionDefinition? definition) => new()
    {
        Definition = definition,
        EmbeddingGenerator = _options.EmbeddingGenerator,
        PrefixDimensions = _options.PrefixDimensions,
        Oversampling = _options.Oversampling,
        Strategy = _options.Strategy,
        EfSearch = _options.EfSearch,
    };

    private VectorStoreException Failure(string operation, string? collection, Exception inner) =>
        new($"{operation}{(collection is null ? "" : $" on collection '{collection}'")} ({_storeFactory.SystemName}) failed: {inner.Message}", inner)
        {
            VectorStoreSystemName = _storeFactory.SystemName,
            CollectionName = collection,
            OperationName = operation,
        };
}
