using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.Pgvector;

// The public operations: each one a span and its measurements around the retried work (PgvectorAdaptiveStore.Retries.cs).
public sealed partial class PgvectorAdaptiveStore<TKey>
{
    /// <summary>The <c>db.system.name</c> of PostgreSQL in the OpenTelemetry conventions.</summary>
    internal const string SystemName = "postgresql";

    /// <inheritdoc />
    /// <remarks>
    /// Each batch of <see cref="PgvectorStoreOptions.UpsertBatchSize"/> records is one transaction, retried on its own after a
    /// transient error; when the call fails, the batches before the failing one are written and the rest are not.
    /// </remarks>
    /// <exception cref="ArgumentException">A record is invalid for the layout, or holds what PostgreSQL cannot store (a NUL character, a lone surrogate, a value out of halfvec's range); nothing is written.</exception>
    public Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default) =>
        _telemetry.TraceUpsertAsync(this, records, static (s, r, ct) => s.UpsertWithRetriesAsync(r, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Retried after a transient error, like every operation that only reads or is idempotent.</remarks>
    /// <exception cref="ArgumentException">A string key holds a NUL character or a lone surrogate, which PostgreSQL text cannot hold.</exception>
    public Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Delete, this, keys, static (s, k, ct) => s.DeleteWithRetriesAsync(k, ct), static deleted => deleted, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A string key holds a NUL character or a lone surrogate, which PostgreSQL text cannot hold.</exception>
    public Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Get, this, key, static (s, k, ct) => s.GetWithRetriesAsync(k, ct), static record => record is null ? 0 : 1, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A text value of the filter holds a NUL character or a lone surrogate.</exception>
    public Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Count, this, filter, static (s, f, ct) => s.CountWithRetriesAsync(f, ct), returnedRows: null, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The query is invalid for the layout, or a text value of the filter holds a NUL character or a lone surrogate.</exception>
    public Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default) =>
        _telemetry.TraceSearchAsync(this, query, options, static (s, q, o, ct) => s.SearchWithRetriesAsync(q, o, ct), cancellationToken);
}
