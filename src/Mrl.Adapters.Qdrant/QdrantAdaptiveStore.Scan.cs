using System.Globalization;
using System.Text.Json;
using Mrl.Adapters.Filtering;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

// The filtered scan (GetAsync with a filter): Qdrant's id order for integer keys, otherwise a bounded read sorted in process.
public sealed partial class QdrantAdaptiveStore<TKey>
{
    private async Task<IReadOnlyList<VectorRecord<TKey>>> QueryCoreAsync(Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var condition = QdrantFilterTranslator.TranslateOrNull(filter);
        return options.OrderBy.Count == 0 && _codec.IdOrderIsKeyOrder
            ? await ScanInIdOrderAsync(condition, top, options, cancellationToken).ConfigureAwait(false)
            : await ScanAndSortAsync(condition, top, options, cancellationToken).ConfigureAwait(false);
    }

    // Integer keys in key order are Qdrant's own scroll order: skip by scrolling ids only, then read the page.
    private async Task<IReadOnlyList<VectorRecord<TKey>>> ScanInIdOrderAsync(Proto.Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var noPayload = new Proto.WithPayloadSelector { Enable = false };
        var noVectors = new Proto.WithVectorsSelector { Enable = false };
        Proto.PointId? offset = null;
        for (var skipped = 0; skipped < options.Skip;)
        {
            var skip = await ScrollPageAsync(filter, (uint)Math.Min(options.Skip - skipped, MaxIdsPerCall), offset, noPayload, noVectors, cancellationToken)
                .ConfigureAwait(false);
            skipped += skip.Result.Count;
            offset = skip.NextPageOffset;
            if (offset is null)
            {
                return [];
            }
        }

        var vectors = options.IncludeVectors ? FullVectorSelector() : noVectors;
        var records = new List<VectorRecord<TKey>>(Math.Min(top, InitialPageCapacity));
        do
        {
            var page = await ScrollPageAsync(filter, (uint)Math.Min(top - records.Count, PageLimit(options.IncludeVectors)), offset,
                new Proto.WithPayloadSelector { Enable = true }, vectors, cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                var id = QdrantProtos.PointId(point.Id);
                records.Add(new VectorRecord<TKey>(_codec.FromPoint(id, point.Payload), options.IncludeVectors ? FullVector(point.Vectors, id) : ReadOnlyMemory<float>.Empty,
                    QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null && records.Count < top);

        return records;
    }

    // Qdrant's order_by would drop the points that lack the field, takes one numeric key backed by a range index, and pages
    // without an offset; so the matches (payloads only, at most MaxScanPoints) are ordered here as the in-memory store does.
    private async Task<IReadOnlyList<VectorRecord<TKey>>> ScanAndSortAsync(Proto.Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
    {
        var matches = new List<(TKey Key, Proto.PointId Id, JsonElement? Payload)>();
        Proto.PointId? offset = null;
        do
        {
            var page = await ScrollPageAsync(filter, (uint)PageLimit(withVectors: false), offset, new Proto.WithPayloadSelector { Enable = true },
                new Proto.WithVectorsSelector { Enable = false }, cancellationToken).ConfigureAwait(false);
            foreach (var point in page.Result)
            {
                matches.Add((_codec.FromPoint(QdrantProtos.PointId(point.Id), point.Payload), point.Id, QdrantProtos.Payload(point.Payload, _codec.StoresKeyInPayload)));
            }

            if (matches.Count > _maxScanPoints)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"GetAsync on Qdrant collection '{_collection}' orders the matching points in process (an OrderBy, or {typeof(TKey).Name} keys) and reads at most " +
                    $"QdrantStoreOptions.MaxScanPoints ({_maxScanPoints}) of them; more match. Narrow the filter or raise MaxScanPoints."));
            }

            offset = page.NextPageOffset;
        }
        while (offset is not null);

        var keys = typeof(TKey) == typeof(string) ? (IComparer<TKey>)(object)StringComparer.Ordinal : Comparer<TKey>.Default;
        var orderBy = options.OrderBy;
        matches.Sort((a, b) => PayloadOrder.Compare(a.Payload, b.Payload, orderBy) is var c and not 0 ? c : keys.Compare(a.Key, b.Key));
        var slice = matches.Skip(options.Skip).Take(top).ToList();
        if (!options.IncludeVectors || slice.Count == 0)
        {
            return slice.Select(m => new VectorRecord<TKey>(m.Key, ReadOnlyMemory<float>.Empty, m.Payload)).ToArray();
        }

        var full = new Dictionary<QdrantPointId, float[]>(slice.Count);
        foreach (var chunk in slice.Select(m => m.Id).Chunk(MaxIdsPerCall))
        {
            var points = await _calls.RunAsync("Retrieve", ct => _client.RetrieveAsync(_collection, chunk, new Proto.WithPayloadSelector { Enable = false },
                FullVectorSelector(), _readConsistency, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            foreach (var point in points)
            {
                var id = QdrantProtos.PointId(point.Id);
                full[id] = FullVector(point.Vectors, id);
            }
        }

        // A point deleted between the scan and the retrieve drops out, as it would from a later scan.
        return slice.Where(m => full.ContainsKey(QdrantProtos.PointId(m.Id)))
            .Select(m => new VectorRecord<TKey>(m.Key, full[QdrantProtos.PointId(m.Id)], m.Payload)).ToArray();
    }

    private float[] FullVector(Proto.VectorsOutput? vectors, QdrantPointId id) =>
        QdrantProtos.ReadVector(vectors, _fullVectorName, Layout.FullDimensions)
        ?? throw new QdrantException($"Point {id} in '{_collection}' has no '{_fullVectorName}' vector.");

    // Pages of full vectors stay near 2 MiB, well inside gRPC's default 4 MB answer.
    private int PageLimit(bool withVectors) =>
        withVectors ? Math.Clamp(2 * 1024 * 1024 / (Layout.FullDimensions * sizeof(float)), 1, ScanPageSize) : ScanPageSize;

    /// <summary>One page of a scroll: points in id order from <paramref name="offset"/> (the start when null).</summary>
    private Task<Proto.ScrollResponse> ScrollPageAsync(
        Proto.Filter? filter, uint limit, Proto.PointId? offset, Proto.WithPayloadSelector payload, Proto.WithVectorsSelector vectors, CancellationToken cancellationToken) =>
        _calls.RunAsync("Scroll", ct => _client.ScrollAsync(_collection, filter, limit, offset, payload, vectors, _readConsistency, cancellationToken: ct),
            cancellationToken);
}
