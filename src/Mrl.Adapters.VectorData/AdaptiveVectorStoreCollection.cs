using System.Diagnostics.CodeAnalysis;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// A Microsoft.Extensions.VectorData collection over an <see cref="IAdaptiveStore{TKey}"/>: records described by
/// <see cref="VectorStoreKeyAttribute"/>, <see cref="VectorStoreDataAttribute"/> and <see cref="VectorStoreVectorAttribute"/>
/// (or a <see cref="VectorStoreCollectionDefinition"/>), searched in two passes.
/// </summary>
/// <remarks>
/// The vector property holds the full vector; the store indexes its first
/// <see cref="AdaptiveVectorStoreCollectionOptions.PrefixDimensions"/> values. The data properties are stored as the
/// record's JSON payload, named by their storage names; LINQ filters are translated into the core filter model.
/// </remarks>
/// <typeparam name="TKey">The key type: string, Guid, long or int (what the backend supports: pgvector takes string, Guid and long).</typeparam>
/// <typeparam name="TRecord">The record type.</typeparam>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "MEVD names its collection types *Collection.")]
public sealed class AdaptiveVectorStoreCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly CollectionCore<TRecord> _core;

    /// <summary>Creates a collection named <paramref name="name"/> on the stores <paramref name="storeFactory"/> hands out.</summary>
    /// <exception cref="NotSupportedException">The record type is <c>Dictionary&lt;string, object?&gt;</c> (use <see cref="AdaptiveVectorStoreDynamicCollection"/>), or a property type, distance function or index kind is not supported.</exception>
    /// <exception cref="InvalidOperationException">The record type does not describe one key and one vector property.</exception>
    public AdaptiveVectorStoreCollection(IAdaptiveStoreFactory storeFactory, string name, AdaptiveVectorStoreCollectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(storeFactory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (typeof(TRecord) == typeof(Dictionary<string, object?>))
        {
            throw new NotSupportedException(VectorDataStrings.NonDynamicCollectionWithDictionaryNotSupported(typeof(AdaptiveVectorStoreDynamicCollection)));
        }

        options ??= new AdaptiveVectorStoreCollectionOptions();
        var model = new AdaptiveModelBuilder().Build(typeof(TRecord), typeof(TKey), options.Definition, options.EmbeddingGenerator);
        _core = new CollectionCore<TRecord>(storeFactory, name, model, options, dynamic: false);
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
    public override Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default) =>
        _core.GetAsync(key, options, cancellationToken);

    /// <summary>
    /// Lists up to <paramref name="top"/> records that match <paramref name="filter"/>, after <c>Skip</c>, in the order of
    /// <c>OrderBy</c> (data properties; ties and an absent order fall back to key order): a scan of the payloads, not a search.
    /// </summary>
    public override IAsyncEnumerable<TRecord> GetAsync(
        Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null, CancellationToken cancellationToken = default) =>
        _core.GetAsync(filter, top, options, cancellationToken);

    /// <inheritdoc />
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default) => _core.DeleteAsync([key], cancellationToken);

    /// <inheritdoc />
    public override Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return _core.DeleteAsync(keys.Cast<object>(), cancellationToken);
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default) => _core.UpsertAsync([record], cancellationToken);

    /// <summary>Inserts or replaces records in one store call; vectors to generate are generated in one call per batch.</summary>
    public override Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default) => _core.UpsertAsync(records, cancellationToken);

    /// <summary>
    /// Two-pass search: pass 1 fetches <c>(top + Skip) × oversampling</c> candidates on the prefix, pass 2 rescores them on
    /// the full vectors. Pass <see cref="AdaptiveVectorSearchOptions{TRecord}"/> to set oversampling, rerank and ef_search.
    /// </summary>
    /// <param name="searchValue">A full vector (<c>ReadOnlyMemory&lt;float&gt;</c>, <c>Memory&lt;float&gt;</c>, <c>float[]</c>, <c>Embedding&lt;float&gt;</c>), or input for the configured embedding generator.</param>
    /// <param name="top">How many results to return.</param>
    /// <param name="options">Filter, skip, score threshold, vectors in the results, and the two-pass knobs.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    public override IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, CancellationToken cancellationToken = default) =>
        _core.SearchAsync(searchValue, top, options, cancellationToken);

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(AdaptiveVectorStoreCollection<TKey, TRecord>) && serviceKey is null ? this : _core.GetService(serviceType, serviceKey);
}
