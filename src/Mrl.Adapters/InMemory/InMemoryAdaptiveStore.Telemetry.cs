using System.Diagnostics;
using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.InMemory;

// The public operations: each one a span and its measurements around the work in the main file.
public sealed partial class InMemoryAdaptiveStore<TKey>
{
    /// <summary>The <c>db.system.name</c> the in-memory store reports in telemetry.</summary>
    internal const string SystemName = "inmemory";

    /// <inheritdoc />
    public async Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Upsert);
        try
        {
            await UpsertCoreAsync(records, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _telemetry.Failed(activity, StoreOperations.Upsert, e, started);
            throw;
        }

        _telemetry.Wrote(activity, records.Count, started);
    }

    /// <inheritdoc />
    public async Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Delete);
        try
        {
            var deleted = await DeleteCoreAsync(keys).ConfigureAwait(false);
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
    public async Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Get);
        try
        {
            var record = await GetCoreAsync(key).ConfigureAwait(false);
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
    public async Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.Start(StoreOperations.Count);
        try
        {
            var count = await CountCoreAsync(filter).ConfigureAwait(false);
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
    public async Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        using var activity = _telemetry.StartSearch(options);
        try
        {
            var result = await SearchCoreAsync(query, options, cancellationToken).ConfigureAwait(false);
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
