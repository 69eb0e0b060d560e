using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// What a bulk load and a benchmark need around a collection: its optimizer status (Qdrant builds HNSW in the background
/// after the points arrive), waiting until that is done, and deleting the collection. <c>mrl bench</c> uses it.
/// </summary>
public sealed class QdrantMaintenance
{
    private readonly QdrantTransport _transport;
    private readonly string _collection;

    /// <summary>Creates maintenance operations for the collection the options name, sent through <paramref name="httpClient"/> (not disposed).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public QdrantMaintenance(HttpClient httpClient, QdrantStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _collection = options.Collection;
        _transport = new QdrantTransport(() => httpClient, options.Endpoint!, options.ApiKey, options.RequestTimeout, options.MaxResponseBytes, NullLogger.Instance);
    }

    /// <summary>The collection's status, or null when it does not exist.</summary>
    /// <exception cref="QdrantException">The server answered with an error other than 404, or an answer of another shape.</exception>
    public async Task<QdrantCollectionStatus?> ReadStatusAsync(CancellationToken cancellationToken = default)
    {
        var request = QdrantRequests.GetCollection(_collection);
        JsonElement result;
        try
        {
            result = await _transport.SendForResultAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (QdrantException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
        {
            throw new QdrantException($"Qdrant {request} answered without a collection status.");
        }

        string? optimizerError = null;
        if (result.TryGetProperty("optimizer_status", out var optimizer) && optimizer.ValueKind == JsonValueKind.Object)
        {
            optimizerError = optimizer.TryGetProperty("error", out var error) ? error.ToString() : optimizer.GetRawText();
        }

        return new QdrantCollectionStatus(status.GetString()!, optimizerError, Count(result, "points_count"), Count(result, "indexed_vectors_count"),
            (int)Count(result, "segments_count"));

        static long Count(JsonElement result, string name) =>
            result.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
    }

    /// <summary>
    /// Polls until the collection is green on two polls in a row (right after a write, the optimizers may not have started
    /// yet, so one green answer proves little), and returns that status. Reports each status read.
    /// </summary>
    /// <exception cref="QdrantException">The collection does not exist, turned red, or its optimizers report an error.</exception>
    public async Task<QdrantCollectionStatus> WaitUntilOptimizedAsync(TimeSpan pollInterval, IProgress<QdrantCollectionStatus>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        var greens = 0;
        while (true)
        {
            var status = await ReadStatusAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new QdrantException($"Collection '{_collection}' does not exist.");
            progress?.Report(status);
            if (status.OptimizerError is not null || status.Status == "red")
            {
                throw new QdrantException($"Collection '{_collection}' is {status.Status}; its optimizers report: {status.OptimizerError ?? "(nothing)"}.");
            }

            greens = status.IsGreen ? greens + 1 : 0;
            if (greens == 2)
            {
                return status;
            }

            await Task.Delay(pollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the collection; returns whether it existed.</summary>
    public async Task<bool> DeleteCollectionAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await _transport.SendForResultAsync(QdrantRequests.DeleteCollection(_collection), cancellationToken).ConfigureAwait(false);
            return result.ValueKind == JsonValueKind.True;
        }
        catch (QdrantException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
