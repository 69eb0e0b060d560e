using Mrl.Adapters.Diagnostics;

namespace Mrl.Adapters.Qdrant;

// The public operations: each one a span and its measurements around the work in the main file.
public sealed partial class QdrantAdaptiveStore<TKey>
{
    /// <summary>The <c>db.system.name</c> the Qdrant store reports in telemetry.</summary>
    internal const string SystemName = "qdrant";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">
    /// A record is invalid (see <see cref="VectorRecordValidator"/>), has a negative long key, carries the reserved payload
    /// field <see cref="QdrantKeyMapping.KeyPayloadField"/> with string keys, or alone exceeds <see cref="QdrantStoreOptions.MaxRequestBytes"/>.
    /// </exception>
    public Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default) =>
        _telemetry.TraceUpsertAsync(this, records, static (s, r, ct) => s.UpsertCoreAsync(r, ct), cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Qdrant's delete does not say how many points existed, so the store first retrieves the ids (without vectors or
    /// payload) and deletes those it found; a concurrent writer can make the count differ from what was removed.
    /// </remarks>
    public Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Delete, this, keys, static (s, k, ct) => s.DeleteCoreAsync(k, ct), static deleted => deleted, cancellationToken);

    /// <inheritdoc />
    public Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Get, this, key, static (s, k, ct) => s.GetCoreAsync(k, ct), static record => record is null ? 0 : 1, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Scroll calls with the translated filter. Without <see cref="RecordQueryOptions.OrderBy"/> and with integer keys, Qdrant's
    /// id order is the key order: the skipped points are scrolled as ids only, then the page is read. Otherwise the matching
    /// points' payloads (at most <see cref="QdrantStoreOptions.MaxScanPoints"/>) are ordered in process as the in-memory store
    /// orders them, and the page's full vectors are retrieved by id when asked for.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The records must be ordered in process and more than <see cref="QdrantStoreOptions.MaxScanPoints"/> match.</exception>
    public Task<IReadOnlyList<VectorRecord<TKey>>> GetAsync(Filter? filter, int top, RecordQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        options = RecordQueryOptions.Check(top, options);
        return _telemetry.TraceAsync(StoreOperations.Get, this, (filter, top, options),
            static (s, a, ct) => s.QueryCoreAsync(a.filter, a.top, a.options, ct), static records => records.Count, cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default) =>
        _telemetry.TraceAsync(StoreOperations.Count, this, filter, static (s, f, ct) => s.CountCoreAsync(f, ct), returnedRows: null, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// With <see cref="SearchStrategy.TwoPassInDatabase"/> the candidates never reach this process: <see cref="SearchDiagnostics.CandidatesFetched"/>
    /// reports the prefetch limit and <see cref="SearchDiagnostics.BytesFetched"/> is 0.
    /// </remarks>
    public Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default) =>
        _telemetry.TraceSearchAsync(this, query, options, static (s, q, o, ct) => s.SearchCoreAsync(q, o, ct), cancellationToken);
}
