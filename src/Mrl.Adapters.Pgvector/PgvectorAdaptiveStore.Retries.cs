namespace Mrl.Adapters.Pgvector;

/// <summary>The read and delete operations, each run through the store's resilience pipeline (<see cref="PgvectorStoreOptions.MaxRetries"/>).</summary>
public sealed partial class PgvectorAdaptiveStore<TKey>
{
    /// <inheritdoc />
    /// <remarks>Retried after a transient error, like every operation that only reads or is idempotent.</remarks>
    /// <exception cref="ArgumentException">A string key holds a NUL character or a lone surrogate, which PostgreSQL text cannot hold.</exception>
    public Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        PgvectorValueRules.CheckKeys(keys);
        return _retry.ExecuteAsync("delete", ct => DeleteOnceAsync(keys, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A string key holds a NUL character or a lone surrogate, which PostgreSQL text cannot hold.</exception>
    public Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        PgvectorValueRules.CheckKeys([key]);
        return _retry.ExecuteAsync("get", ct => GetOnceAsync(key, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A text value of the filter holds a NUL character or a lone surrogate.</exception>
    public Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default) =>
        _retry.ExecuteAsync("count", ct => CountOnceAsync(filter, ct), cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The query is invalid for the layout, or a text value of the filter holds a NUL character or a lone surrogate.</exception>
    public Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _retry.ExecuteAsync("search", ct => SearchOnceAsync(query, options, ct), cancellationToken);
    }
}
