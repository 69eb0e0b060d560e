namespace Mrl.Adapters.Pgvector;

/// <summary>The read and delete operations, each run through the store's resilience pipeline (<see cref="PgvectorStoreOptions.MaxRetries"/>).</summary>
public sealed partial class PgvectorAdaptiveStore<TKey>
{
    private Task<int> DeleteWithRetriesAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        PgvectorValueRules.CheckKeys(keys);
        return _retry.ExecuteAsync("delete", ct => DeleteOnceAsync(keys, ct), cancellationToken);
    }

    private Task<VectorRecord<TKey>?> GetWithRetriesAsync(TKey key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        PgvectorValueRules.CheckKeys([key]);
        return _retry.ExecuteAsync("get", ct => GetOnceAsync(key, ct), cancellationToken);
    }

    private Task<long> CountWithRetriesAsync(Filter? filter, CancellationToken cancellationToken) =>
        _retry.ExecuteAsync("count", ct => CountOnceAsync(filter, ct), cancellationToken);

    private Task<SearchResult<TKey>> SearchWithRetriesAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return _retry.ExecuteAsync("search", ct => SearchOnceAsync(query, options, ct), cancellationToken);
    }
}
