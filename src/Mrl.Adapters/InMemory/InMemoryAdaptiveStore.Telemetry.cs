using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.InMemory;

// The public operations: each one a span and its measurements around the work in the main file.
public sealed partial class InMemoryAdaptiveStore<TKey>
{
    /// <summary>The <c>db.system.name</c> the in-memory store reports in telemetry.</summary>
    internal const string SystemName = "inmemory";

    /// <inheritdoc />
    public Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default) =>
        _telemetry.TraceUpsertAsync(this, records, static (s, r, ct) => s.UpsertCoreAsync(r, ct), cancellationToken);

    /// <inheritdoc />
    public Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Delete, this, keys, static (s, k, _) => s.DeleteCoreAsync(k), static deleted => deleted, cancellationToken);

    /// <inheritdoc />
    public Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Get, this, key, static (s, k, _) => s.GetCoreAsync(k), static record => record is null ? 0 : 1, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<VectorRecord<TKey>>> GetAsync(Filter? filter, int top, RecordQueryOptions? options = null, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Get, this, (filter, top, options), static (s, a, _) => s.QueryCoreAsync(a.filter, a.top, a.options), static records => records.Count, cancellationToken);

    /// <inheritdoc />
    public Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Count, this, filter, static (s, f, _) => s.CountCoreAsync(f), returnedRows: null, cancellationToken);

    /// <inheritdoc />
    public Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default) =>
        _telemetry.TraceSearchAsync(this, query, options, static (s, q, o, ct) => s.SearchCoreAsync(q, o, ct), cancellationToken);
}
