using System.Diagnostics;
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
    public async Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Upsert);
        try
        {
            await UpsertWithRetriesAsync(records, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _telemetry.Failed(activity, StoreOperations.Upsert, e, started);
            throw;
        }

        _telemetry.Wrote(activity, records.Count, started);
    }

    /// <inheritdoc />
    /// <remarks>Retried after a transient error, like every operation that only reads or is idempotent.</remarks>
    /// <exception cref="ArgumentException">A string key holds a NUL character or a lone surrogate, which PostgreSQL text cannot hold.</exception>
    public async Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Delete);
        try
        {
            var deleted = await DeleteWithRetriesAsync(keys, cancellationToken).ConfigureAwait(false);
            _telemetry.Completed(activity, StoreOperations.Delete, started, deleted);
            return deleted;
        }
        catch (Exception e)
        {
            _telemetry.Failed(activity, StoreOperations.Delete, e, started);
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A string key holds a NUL character or a lone surrogate, which PostgreSQL text cannot hold.</exception>
    public async Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Get);
        try
        {
            var record = await GetWithRetriesAsync(key, cancellationToken).ConfigureAwait(false);
            _telemetry.Completed(activity, StoreOperations.Get, started, record is null ? 0 : 1);
            return record;
        }
        catch (Exception e)
        {
            _telemetry.Failed(activity, StoreOperations.Get, e, started);
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A text value of the filter holds a NUL character or a lone surrogate.</exception>
    public async Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Count);
        try
        {
            var count = await CountWithRetriesAsync(filter, cancellationToken).ConfigureAwait(false);
            _telemetry.Completed(activity, StoreOperations.Count, started);
            return count;
        }
        catch (Exception e)
        {
            _telemetry.Failed(activity, StoreOperations.Count, e, started);
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The query is invalid for the layout, or a text value of the filter holds a NUL character or a lone surrogate.</exception>
    public async Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.StartSearch(options);
        try
        {
            var result = await SearchWithRetriesAsync(query, options, cancellationToken).ConfigureAwait(false);
            _telemetry.Searched(activity, options, result, started);
            return result;
        }
        catch (Exception e)
        {
            _telemetry.Failed(activity, StoreOperations.Search, e, started);
            throw;
        }
    }
}
