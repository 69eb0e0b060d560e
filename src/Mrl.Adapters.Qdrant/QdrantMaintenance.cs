using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// What a bulk load and a benchmark need around a collection: its optimizer status (Qdrant builds HNSW in the background
/// after the points arrive), waiting until that is done, and deleting the collection. <c>mrl bench</c> uses it.
/// </summary>
internal sealed class QdrantMaintenance
{
    private readonly QdrantClient _client;
    private readonly QdrantCalls _calls;
    private readonly string _collection;

    /// <summary>Creates maintenance operations for the collection the options name, through <paramref name="client"/> (not disposed).</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public QdrantMaintenance(QdrantClient client, QdrantStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _client = client;
        _collection = options.Collection;
        _calls = new QdrantCalls(_collection, options.RequestTimeout, options.RetryAttempts, options.ApiKey, NullLogger.Instance);
    }

    /// <summary>The collection's status, or null when it does not exist.</summary>
    /// <exception cref="QdrantException">The server answered with an error other than NotFound.</exception>
    public async Task<QdrantCollectionStatus?> ReadStatusAsync(CancellationToken cancellationToken = default)
    {
        Proto.CollectionInfo info;
        try
        {
            info = await _calls.RunAsync("GetCollectionInfo", ct => _client.GetCollectionInfoAsync(_collection, ct), cancellationToken).ConfigureAwait(false);
        }
        catch (QdrantException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return null;
        }

        var optimizer = info.OptimizerStatus;
        var optimizerError = optimizer is null || optimizer.Ok ? null : (string.IsNullOrEmpty(optimizer.Error) ? "(not ok, no error text)" : optimizer.Error);
        return new QdrantCollectionStatus(info.Status.ToString().ToLowerInvariant(), optimizerError, (long)info.PointsCount, (long)info.IndexedVectorsCount,
            (int)info.SegmentsCount);
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
            return await _calls.RunAsync("DeleteCollection", async ct =>
            {
                try
                {
                    await _client.DeleteCollectionAsync(_collection, cancellationToken: ct).ConfigureAwait(false);
                    return true;
                }
                catch (global::Qdrant.Client.QdrantException)
                {
                    // The client's way of saying the server answered false: there was no such collection.
                    return false;
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (QdrantException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
    }
}
