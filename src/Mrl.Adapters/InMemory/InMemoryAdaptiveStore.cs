using System.Diagnostics;
using System.Text.Json;
using Mrl.Adapters.Diagnostics;
using Mrl.Adapters.Filtering;

namespace Mrl.Adapters.InMemory;

/// <summary>
/// The embedded default store: records in process memory, prefixes in one contiguous array scanned exactly
/// (parallel, SIMD) for pass 1. Thread-safe: searches run concurrently, writes exclusively.
/// </summary>
/// <remarks>
/// There is no database here, so <see cref="SearchStrategy.TwoPassInDatabase"/> runs the same in-process rerank as
/// <see cref="SearchStrategy.TwoPass"/> (and the diagnostics say <see cref="SearchStrategy.TwoPass"/> ran), and
/// <see cref="SearchStrategy.FullDimension"/> is an exact scan of the full vectors.
/// </remarks>
public sealed partial class InMemoryAdaptiveStore<TKey> : IAdaptiveStore<TKey>, ICandidateSource<TKey>, IDisposable where TKey : notnull
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<TKey, int> _slots = [];
    private readonly DistanceMetric _prefixMetric;
    private readonly StoreTelemetry _telemetry;
    private float[] _prefixes = [];
    private float[] _fulls = [];
    private TKey[] _keys = [];
    private JsonElement?[] _payloads = [];
    private int _count;

    /// <summary>Creates an empty store for vectors of <paramref name="layout"/>.</summary>
    public InMemoryAdaptiveStore(EmbeddingLayout layout)
        : this(layout, name: null)
    {
    }

    /// <summary>Creates an empty store that reports itself as collection <paramref name="name"/> in telemetry.</summary>
    internal InMemoryAdaptiveStore(EmbeddingLayout layout, string? name)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Layout = layout;
        _telemetry = new StoreTelemetry(SystemName, name, layout, ActivityKind.Internal);

        // Prefixes of normalizing metrics are stored at unit length, so their cosine is a plain dot product.
        _prefixMetric = layout.NormalizesPrefix ? DistanceMetric.DotProduct : layout.Metric;
    }

    /// <inheritdoc />
    public EmbeddingLayout Layout { get; }

    /// <summary>Bytes held by the vector arrays (allocated capacity).</summary>
    public long VectorBytes => ((long)_prefixes.Length + _fulls.Length) * sizeof(float);

    /// <inheritdoc />
    public Task EnsureSchemaAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    private Task UpsertCoreAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken)
    {
        VectorRecordValidator.Validate(Layout, records);
        cancellationToken.ThrowIfCancellationRequested();

        var p = Layout.PrefixDimensions;
        var d = Layout.FullDimensions;
        var prefixes = new float[records.Count * p];
        for (var i = 0; i < records.Count; i++)
        {
            Layout.WritePrefix(records[i].Vector.Span, prefixes.AsSpan(i * p, p));
        }

        _lock.EnterWriteLock();
        try
        {
            EnsureCapacity(_count + records.Count);
            for (var i = 0; i < records.Count; i++)
            {
                var record = records[i];
                if (!_slots.TryGetValue(record.Key, out var slot))
                {
                    slot = _count++;
                    _slots.Add(record.Key, slot);
                    _keys[slot] = record.Key;
                }

                prefixes.AsSpan(i * p, p).CopyTo(_prefixes.AsSpan(slot * p, p));
                record.Vector.Span.CopyTo(_fulls.AsSpan(slot * d, d));
                _payloads[slot] = record.Payload?.Clone();
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        return Task.CompletedTask;
    }

    private Task<int> DeleteCoreAsync(IReadOnlyList<TKey> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var deleted = 0;
        _lock.EnterWriteLock();
        try
        {
            foreach (var key in keys)
            {
                if (key is not null && _slots.Remove(key, out var slot))
                {
                    MoveLastInto(slot);
                    deleted++;
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        return Task.FromResult(deleted);
    }

    private Task<VectorRecord<TKey>?> GetCoreAsync(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _lock.EnterReadLock();
        try
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                return Task.FromResult<VectorRecord<TKey>?>(null);
            }

            var vector = _fulls.AsSpan(slot * Layout.FullDimensions, Layout.FullDimensions).ToArray();
            return Task.FromResult<VectorRecord<TKey>?>(new VectorRecord<TKey>(_keys[slot], vector, _payloads[slot]));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private Task<IReadOnlyList<VectorRecord<TKey>>> QueryCoreAsync(Filter? filter, int top, RecordQueryOptions? options)
    {
        options = RecordQueryOptions.Check(top, options);
        var d = Layout.FullDimensions;
        _lock.EnterReadLock();
        try
        {
            var matches = new List<int>();
            for (var i = 0; i < _count; i++)
            {
                if (filter is null || PayloadFilterEvaluator.Matches(filter, _payloads[i]))
                {
                    matches.Add(i);
                }
            }

            var keys = KeyOrder;
            var payloads = _payloads;
            var slotKeys = _keys;
            var orderBy = options.OrderBy;
            matches.Sort((a, b) => PayloadOrder.Compare(payloads[a], payloads[b], orderBy) is var c and not 0 ? c : keys.Compare(slotKeys[a], slotKeys[b]));
            var page = matches.Skip(options.Skip).Take(top).Select(slot => new VectorRecord<TKey>(
                _keys[slot], options.IncludeVectors ? _fulls.AsSpan(slot * d, d).ToArray() : ReadOnlyMemory<float>.Empty, _payloads[slot])).ToArray();
            return Task.FromResult<IReadOnlyList<VectorRecord<TKey>>>(page);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    // Keys break ties, ordinally for strings, so that pages do not depend on the culture.
    private static IComparer<TKey> KeyOrder => typeof(TKey) == typeof(string) ? (IComparer<TKey>)(object)StringComparer.Ordinal : Comparer<TKey>.Default;

    private Task<long> CountCoreAsync(Filter? filter)
    {
        _lock.EnterReadLock();
        try
        {
            if (filter is null)
            {
                return Task.FromResult((long)_count);
            }

            long matched = 0;
            for (var i = 0; i < _count; i++)
            {
                if (PayloadFilterEvaluator.Matches(filter, _payloads[i]))
                {
                    matched++;
                }
            }

            return Task.FromResult(matched);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private Task<SearchResult<TKey>> SearchCoreAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Strategy == SearchStrategy.FullDimension)
        {
            Layout.Validate(query.Span, "the query");
            return Task.FromResult(SearchFullDimensions(query, options));
        }

        var twoPass = options.Strategy == SearchStrategy.TwoPassInDatabase ? options with { Strategy = SearchStrategy.TwoPass } : options;
        return TwoPassRetriever.SearchAsync(Layout, this, query, twoPass, cancellationToken);
    }

    /// <inheritdoc />
    ValueTask<CandidateBatch<TKey>> ICandidateSource<TKey>.FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var d = Layout.FullDimensions;
        _lock.EnterReadLock();
        try
        {
            var best = ExactKnn.Search(_prefixes, _count, Layout.PrefixDimensions, request.PrefixQuery, request.Count, _prefixMetric, Predicate(request.Filter));
            var fulls = request.IncludeFullVectors ? new float[best.Length * d] : [];
            var candidates = new Candidate<TKey>[best.Length];
            for (var i = 0; i < best.Length; i++)
            {
                var slot = best[i].Index;
                var full = ReadOnlyMemory<float>.Empty;
                if (request.IncludeFullVectors)
                {
                    _fulls.AsSpan(slot * d, d).CopyTo(fulls.AsSpan(i * d, d));
                    full = fulls.AsMemory(i * d, d);
                }

                candidates[i] = new Candidate<TKey>(_keys[slot], best[i].Score, full, _payloads[slot]);
            }

            return ValueTask.FromResult(new CandidateBatch<TKey>(candidates, (long)fulls.Length * sizeof(float)));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _lock.Dispose();

    /// <summary>A consistent copy of every record, for <see cref="InMemorySnapshot"/>.</summary>
    internal IReadOnlyList<VectorRecord<TKey>> Snapshot()
    {
        var d = Layout.FullDimensions;
        _lock.EnterReadLock();
        try
        {
            var records = new VectorRecord<TKey>[_count];
            for (var i = 0; i < _count; i++)
            {
                records[i] = new VectorRecord<TKey>(_keys[i], _fulls.AsSpan(i * d, d).ToArray(), _payloads[i]);
            }

            return records;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private SearchResult<TKey> SearchFullDimensions(ReadOnlyMemory<float> query, SearchOptions options)
    {
        var start = Stopwatch.GetTimestamp();
        _lock.EnterReadLock();
        try
        {
            var best = ExactKnn.Search(_fulls, _count, Layout.FullDimensions, query, options.K, Layout.Metric, Predicate(options.Filter));
            var hits = best.Select(b => new SearchHit<TKey>(_keys[b.Index], b.Score, _payloads[b.Index])).ToArray();
            return new SearchResult<TKey>(hits, new SearchDiagnostics
            {
                CandidatesFetched = hits.Length,
                Pass1Time = Stopwatch.GetElapsedTime(start),
                Strategy = SearchStrategy.FullDimension,
            });
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private Func<int, bool>? Predicate(Filter? filter)
    {
        if (filter is null)
        {
            return null;
        }

        var payloads = _payloads;
        return slot => PayloadFilterEvaluator.Matches(filter, payloads[slot]);
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _keys.Length)
        {
            return;
        }

        var capacity = Math.Max(needed, Math.Max(1024, _keys.Length * 2));
        Array.Resize(ref _keys, capacity);
        Array.Resize(ref _payloads, capacity);
        Array.Resize(ref _prefixes, capacity * Layout.PrefixDimensions);
        Array.Resize(ref _fulls, capacity * Layout.FullDimensions);
    }

    // Keeps the arrays dense so that pass 1 scans one contiguous block.
    private void MoveLastInto(int slot)
    {
        var last = --_count;
        if (slot != last)
        {
            var p = Layout.PrefixDimensions;
            var d = Layout.FullDimensions;
            _prefixes.AsSpan(last * p, p).CopyTo(_prefixes.AsSpan(slot * p, p));
            _fulls.AsSpan(last * d, d).CopyTo(_fulls.AsSpan(slot * d, d));
            _keys[slot] = _keys[last];
            _payloads[slot] = _payloads[last];
            _slots[_keys[slot]] = slot;
        }

        _keys[last] = default!;
        _payloads[last] = null;
    }
}
