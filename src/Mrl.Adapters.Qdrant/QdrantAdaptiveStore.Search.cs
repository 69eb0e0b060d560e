using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Caching;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

// Search: pass 1 on the prefix vector (with versions for the full-vector cache), the single-request strategies, and the cache's warm-up.
public sealed partial class QdrantAdaptiveStore<TKey>
{
    private async Task<SearchResult<TKey>> SearchCoreAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Strategy == SearchStrategy.FullDimension)
        {
            Layout.Validate(query.Span, "the query");
            var filter = QdrantFilterTranslator.TranslateOrNull(options.Filter);
            return await SearchInDatabaseAsync(ct => _client.QueryAsync(_collection, QdrantProtos.Nearest(query.Span), usingVector: _fullVectorName,
                    filter: filter, searchParams: new Proto.SearchParams { Exact = true }, limit: (ulong)options.K,
                    payloadSelector: new Proto.WithPayloadSelector { Enable = true }, vectorsSelector: new Proto.WithVectorsSelector { Enable = false },
                    readConsistency: _readConsistency, cancellationToken: ct),
                options.K, SearchStrategy.FullDimension, cancellationToken).ConfigureAwait(false);
        }

        if (options.Strategy == SearchStrategy.TwoPassInDatabase)
        {
            Layout.Validate(query.Span, "the query");
            var candidates = options.CandidateCount;
            var filter = QdrantFilterTranslator.TranslateOrNull(options.Filter);
            var prefetch = new Proto.PrefetchQuery
            {
                Query = QdrantProtos.Nearest(Layout.ToPrefix(query.Span)),
                Using = _prefixVectorName,
                Limit = (ulong)candidates,
                Params = new Proto.SearchParams { HnswEf = (ulong)HnswEf(options.EfSearch, candidates) },
            };
            if (filter is not null)
            {
                prefetch.Filter = filter;
            }

            return await SearchInDatabaseAsync(ct => _client.QueryAsync(_collection, QdrantProtos.Nearest(query.Span), [prefetch], _fullVectorName,
                    filter, limit: (ulong)options.K, payloadSelector: new Proto.WithPayloadSelector { Enable = true },
                    vectorsSelector: new Proto.WithVectorsSelector { Enable = false }, readConsistency: _readConsistency, cancellationToken: ct),
                candidates, SearchStrategy.TwoPassInDatabase, cancellationToken).ConfigureAwait(false);
        }

        return await TwoPassRetriever.SearchAsync(Layout, this, query, options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The prefix query does not fit the layout, or the count is not between 1 and <see cref="SearchOptions.MaxCandidates"/>.</exception>
    async ValueTask<CandidateBatch<TKey>> ICandidateSource<TKey>.FetchCandidatesAsync(CandidateRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Count is < 1 or > SearchOptions.MaxCandidates)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Count,
                string.Create(CultureInfo.InvariantCulture, $"CandidateRequest.Count must be between 1 and {SearchOptions.MaxCandidates}, got {request.Count}."));
        }

        if (VectorMath.FindProblem(request.PrefixQuery.Span, Layout.PrefixDimensions, Layout.PrefixDimensions, rejectZero: false) is { } problem)
        {
            throw new ArgumentException($"Invalid prefix query: {problem}", nameof(request));
        }

        if (_cached is not null && request.IncludeFullVectors)
        {
            return await _cached.FetchCandidatesAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var vectors = request.IncludeFullVectors ? FullVectorSelector() : new Proto.WithVectorsSelector { Enable = false };
        var points = await QueryPrefixAsync(request, vectors, cancellationToken).ConfigureAwait(false);
        var candidates = new List<Candidate<TKey>>(points.Count);
        long bytes = 0;
        foreach (var point in points)
        {
            var id = QdrantProtos.PointId(point.Id);
            var full = ReadOnlyMemory<float>.Empty;
            if (request.IncludeFullVectors)
            {
                full = QdrantProtos.ReadVector(point.Vectors, _fullVectorName, Layout.FullDimensions)
                       ?? throw new QdrantException($"Point {id} in '{_collection}' came without its '{_fullVectorName}' vector; it cannot be reranked.");
                bytes += (long)full.Length * sizeof(float);
            }

            candidates.Add(new Candidate<TKey>(_codec.FromPoint(id, point.Payload), QdrantDistance.ToScore(Layout.Metric, point.Score), full,
                QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
        }

        return new CandidateBatch<TKey>(candidates, bytes);
    }

    /// <summary>Pass 1: the query on the prefix vector, with the payload (and so the write stamp) and the given vectors.</summary>
    private Task<IReadOnlyList<Proto.ScoredPoint>> QueryPrefixAsync(CandidateRequest request, Proto.WithVectorsSelector vectors, CancellationToken cancellationToken)
    {
        var filter = QdrantFilterTranslator.TranslateOrNull(request.Filter);
        return _calls.RunAsync("Query", ct => _client.QueryAsync(_collection, QdrantProtos.Nearest(request.PrefixQuery.Span),
                usingVector: _prefixVectorName, filter: filter, searchParams: new Proto.SearchParams { HnswEf = (ulong)HnswEf(request.EfSearch, request.Count) },
                limit: (ulong)request.Count, payloadSelector: new Proto.WithPayloadSelector { Enable = true }, vectorsSelector: vectors,
                readConsistency: _readConsistency, cancellationToken: ct),
            cancellationToken);
    }

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadVersionedCandidatesAsync(
        CandidateRequest request, List<VersionedCandidate<TKey>> rows, CandidateVectorBuffer? fullVectors, CancellationToken cancellationToken)
    {
        var vectors = fullVectors is null ? new Proto.WithVectorsSelector { Enable = false } : FullVectorSelector();
        var points = await QueryPrefixAsync(request, vectors, cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        foreach (var point in points)
        {
            var id = QdrantProtos.PointId(point.Id);
            if (fullVectors is not null)
            {
                if (!QdrantProtos.TryReadVector(point.Vectors, _fullVectorName, fullVectors.Slot(rows.Count).Span))
                {
                    throw new QdrantException($"Point {id} in '{_collection}' came without its '{_fullVectorName}' vector; it cannot be reranked.");
                }

                bytes += (long)Layout.FullDimensions * sizeof(float);
            }

            rows.Add(new VersionedCandidate<TKey>(_codec.FromPoint(id, point.Payload), QdrantDistance.ToScore(Layout.Metric, point.Score),
                QdrantProtos.Version(point.Payload), QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
        }

        return bytes;
    }

    /// <inheritdoc />
    async ValueTask<long> IVersionedCandidateSource<TKey>.ReadFullVectorsAsync(
        IReadOnlyDictionary<TKey, int> slots, CandidateVectorBuffer into, Action<int, long> found, CancellationToken cancellationToken)
    {
        var bySlot = new Dictionary<QdrantPointId, int>(slots.Count);
        foreach (var (key, slot) in slots)
        {
            bySlot[_codec.ToPointId(key)] = slot;
        }

        long bytes = 0;
        foreach (var chunk in bySlot.Keys.Chunk(MaxIdsPerCall))
        {
            var ids = chunk.Select(QdrantProtos.PointId).ToArray();
            var points = await _calls.RunAsync("Retrieve", ct => _client.RetrieveAsync(_collection, ids, VersionSelector(), FullVectorSelector(),
                _readConsistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            foreach (var point in points)
            {
                var id = QdrantProtos.PointId(point.Id);
                if (bySlot.TryGetValue(id, out var slot) && QdrantProtos.TryReadVector(point.Vectors, _fullVectorName, into.Slot(slot).Span))
                {
                    found(slot, QdrantProtos.Version(point.Payload));
                    bytes += (long)Layout.FullDimensions * sizeof(float);
                }
            }
        }

        return bytes;
    }

    /// <summary>
    /// Reads every point's full vector into <see cref="FullVectorCache"/>, a page of <paramref name="pageSize"/> points per
    /// scroll call, reporting the points read so far. A cache smaller than the collection keeps what its budget allows;
    /// points without the store's write stamp are not cached.
    /// </summary>
    /// <returns>The points read.</returns>
    /// <exception cref="InvalidOperationException">The store has no cache.</exception>
    public async Task<long> WarmAsync(IProgress<long>? progress = null, int pageSize = 1_000, CancellationToken cancellationToken = default)
    {
        var cached = _cached ?? throw new InvalidOperationException("This store has no FullVectorCache to warm.");
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        var cache = cached.Cache;
        var buffer = new float[Layout.FullDimensions];
        var payload = VersionSelector();
        if (_codec.StoresKeyInPayload)
        {
            payload.Include.Fields.Add(QdrantKeyMapping.KeyPayloadField);
        }

        Proto.PointId? offset = null;
        long points = 0;
        do
        {
            var page = await ScrollPageAsync(null, (uint)pageSize, offset, payload, FullVectorSelector(), cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                var version = QdrantProtos.Version(point.Payload);
                if (version != RowVersion.Unknown && QdrantProtos.TryReadVector(point.Vectors, _fullVectorName, buffer))
                {
                    cache.Put(_codec.FromPoint(QdrantProtos.PointId(point.Id), point.Payload), version, buffer);
                }
            }

            points += page.Result.Count;
            progress?.Report(points);
            offset = page.NextPageOffset;
        }
        while (offset is not null);

        cached.MarkWarm();
        return points;
    }

    private async Task<SearchResult<TKey>> SearchInDatabaseAsync(
        Func<CancellationToken, Task<IReadOnlyList<Proto.ScoredPoint>>> query, int candidatesFetched, SearchStrategy strategy, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var points = await _calls.RunAsync("Query", query, cancellationToken).ConfigureAwait(false);
        var hits = new SearchHit<TKey>[points.Count];
        for (var i = 0; i < hits.Length; i++)
        {
            var point = points[i];
            hits[i] = new SearchHit<TKey>(_codec.FromPoint(QdrantProtos.PointId(point.Id), point.Payload), QdrantDistance.ToScore(Layout.Metric, point.Score),
                QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload));
        }

        return new SearchResult<TKey>(hits, new SearchDiagnostics
        {
            CandidatesFetched = strategy == SearchStrategy.FullDimension ? hits.Length : candidatesFetched,
            Pass1Time = Stopwatch.GetElapsedTime(start),
            Strategy = strategy,
        });
    }

    // Only the write stamp: the cache's version of each point fetched after pass 1.
    private static Proto.WithPayloadSelector VersionSelector() =>
        new() { Include = new Proto.PayloadIncludeSelector { Fields = { QdrantKeyMapping.VersionPayloadField } } };

    private Proto.WithVectorsSelector FullVectorSelector() =>
        new() { Include = new Proto.VectorsSelector { Names = { _fullVectorName } } };

    private int HnswEf(int? requested, int count) => Math.Max(requested ?? _defaultEf, count);
}
