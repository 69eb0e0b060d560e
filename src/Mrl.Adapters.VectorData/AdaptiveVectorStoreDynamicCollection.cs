using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// A collection of <c>Dictionary&lt;string, object?&gt;</c> records described by a <see cref="VectorStoreCollectionDefinition"/>:
/// the same two-pass collection as <see cref="AdaptiveVectorStoreCollection{TKey, TRecord}"/>, for schemas known only at run time.
/// Keys are boxed; their type is the definition's key property type.
/// </summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "MEVD names its collection types *Collection.")]
public sealed class AdaptiveVectorStoreDynamicCollection : VectorStoreCollection<object, Dictionary<string, object?>>
{
    private readonly CollectionCore<Dictionary<string, object?>> _core;

    /// <summary>Creates a dynamic collection named <paramref name="name"/> on the stores <paramref name="storeFactory"/> hands out.</summary>
    /// <exception cref="ArgumentException">The options have no <see cref="VectorStoreCollectionOptions.Definition"/>.</exception>
    public AdaptiveVectorStoreDynamicCollection(IAdaptiveStoreFactory storeFactory, string name, AdaptiveVectorStoreCollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(storeFactory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Definition is null)
        {
            throw new ArgumentException("A dynamic collection needs a VectorStoreCollectionDefinition in its options.", nameof(options));
        }

        var model = new AdaptiveModelBuilder().BuildDynamic(options.Definition, options.EmbeddingGenerator);
        _core = new CollectionCore<Dictionary<string, object?>>(storeFactory, name, model, options, dynamic: true);
    }

    /// <inheritdoc />
    public override string Name => _core.Name;

    /// <summary>The layout of the store behind this collection: the vector's dimensions, the prefix and the metric.</summary>
    public EmbeddingLayout Layout => _core.Layout;

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) => _core.CollectionExistsAsync(cancellationToken);

    /// <inheritdoc />
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) => _core.EnsureCollectionExistsAsync(cancellationToken);

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) => _core.EnsureCollectionDeletedAsync(cancellationToken);

    /// <inheritdoc />
    public override Task<Dictionary<string, object?>?> GetAsync(object key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default) =>
        _core.GetAsync(key, options, cancellationToken);

    /// <summary>
    /// Lists up to <paramref name="top"/> records that match <paramref name="filter"/>, after <c>Skip</c>, in the order of
    /// <c>OrderBy</c> (data properties; ties and an absent order fall back to key order): a scan of the payloads, not a search.
    /// </summary>
    public override IAsyncEnumerable<Dictionary<string, object?>> GetAsync(
        Expression<Func<Dictionary<string, object?>, bool>> filter, int top, FilteredRecordRetrievalOptions<Dictionary<string, object?>>? options = null,
        CancellationToken cancellationToken = default) =>
        _core.GetAsync(filter, top, options, cancellationToken);

    /// <inheritdoc />
    public override Task DeleteAsync(object key, CancellationToken cancellationToken = default) => _core.DeleteAsync([key], cancellationToken);

    /// <inheritdoc />
    public override Task DeleteAsync(IEnumerable<object> keys, CancellationToken cancellationToken = default) => _core.DeleteAsync(keys, cancellationToken);

    /// <inheritdoc />
    public override Task UpsertAsync(Dictionary<string, object?> record, CancellationToken cancellationToken = default) => _core.UpsertAsync([record], cancellationToken);

    /// <inheritdoc />
    public override Task UpsertAsync(IEnumerable<Dictionary<string, object?>> records, CancellationToken cancellationToken = default) =>
        _core.UpsertAsync(records, cancellationToken);

    /// <summary>Two-pass search; see <see cref="AdaptiveVectorStoreCollection{TKey, TRecord}.SearchAsync{TInput}"/>.</summary>
    public override IAsyncEnumerable<VectorSearchResult<Dictionary<string, object?>>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<Dictionary<string, object?>>? options = null, CancellationToken cancellationToken = default) =>
        _core.SearchAsync(searchValue, top, options, cancellationToken);

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(AdaptiveVectorStoreDynamicCollection) && serviceKey is null ? this : _core.GetService(serviceType, serviceKey);
}
