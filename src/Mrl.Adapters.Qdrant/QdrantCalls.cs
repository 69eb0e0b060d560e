using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Every call to Qdrant goes through here: a timeout per attempt, retries of transient failures, one log line per call,
/// and errors turned into <see cref="QdrantException"/>s that name the operation and the collection (never the API key).
/// </summary>
internal sealed partial class QdrantCalls
{
    private const int MaxErrorTextLength = 2000;

    private readonly string _collection;
    private readonly TimeSpan _timeout;
    private readonly int _retryAttempts;
    private readonly string? _apiKey;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;

    /// <param name="collection">The collection named in errors and logs.</param>
    /// <param name="timeout">How long one attempt may take.</param>
    /// <param name="retryAttempts">How often a transient failure is retried.</param>
    /// <param name="apiKey">The API key when this library configured the client with it, so that no message can carry it.</param>
    /// <param name="logger">Where calls are logged.</param>
    public QdrantCalls(string collection, TimeSpan timeout, int retryAttempts, string? apiKey, ILogger logger)
    {
        _collection = collection;
        _timeout = timeout;
        _retryAttempts = retryAttempts;
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _logger = logger;
        var builder = new ResiliencePipelineBuilder();
        if (retryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(e => IsTransient(e.StatusCode)),
                MaxRetryAttempts = retryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                OnRetry = args =>
                {
                    LogRetry(_logger, args.AttemptNumber + 1, _collection, args.Outcome.Exception?.Message ?? "");
                    return default;
                },
            });
        }

        _pipeline = builder.Build();
    }

    /// <summary>The same timeout, retries and redaction for calls on another collection, which the errors and logs name.</summary>
    public QdrantCalls For(string collection) => new(collection, _timeout, _retryAttempts, _apiKey, _logger);

    /// <summary>
    /// Whether a gRPC status is worth another attempt. Every call the adapters make is idempotent (upserts and deletes by
    /// id, creations that tolerate "already exists"), so a retry after <c>Unavailable</c> (no connection, a restarting
    /// node, a proxy's 503) cannot write twice. Other codes, <c>ResourceExhausted</c> included (a message over the
    /// server's size limit), would fail again.
    /// </summary>
    internal static bool IsTransient(StatusCode status) => status == StatusCode.Unavailable;

    /// <summary>Runs one call, retried while it fails transiently.</summary>
    /// <exception cref="QdrantException">The call failed; the message names <paramref name="operation"/> and the collection.</exception>
    /// <exception cref="TimeoutException">An attempt took longer than the timeout.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<T> RunAsync<T>(string operation, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await _pipeline.ExecuteAsync(
                static async (state, token) => await state.Self.AttemptAsync(state.call, token).ConfigureAwait(false),
                (Self: this, call),
                cancellationToken).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(start);
            LogCompleted(_logger, operation, _collection, elapsed.TotalMilliseconds);
            return result;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Message, e, cancellationToken);
        }
        catch (AttemptTimedOutException e)
        {
            throw new TimeoutException(
                string.Create(CultureInfo.InvariantCulture,
                    $"Qdrant {operation} on '{_collection}' did not answer within {_timeout.TotalSeconds} s (QdrantStoreOptions.RequestTimeout)."), e.InnerException);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            // The client's own grpcTimeout ends a call as DeadlineExceeded.
            throw new TimeoutException($"Qdrant {operation} on '{_collection}' did not answer within the QdrantClient's gRPC deadline.", e);
        }
        catch (global::Qdrant.Client.QdrantException e)
        {
            // The client's own check of an answer (e.g. a create that answered false).
            var detail = Redact(e.Message);
            LogFailed(_logger, operation, _collection, StatusCode.OK, detail);
            throw new QdrantException($"Qdrant {operation} on '{_collection}' failed: {detail}", null, detail, null);
        }
        catch (RpcException e)
        {
            var detail = Redact(Shorten(e.Status.Detail));
            LogFailed(_logger, operation, _collection, e.StatusCode, detail);
            throw new QdrantException($"Qdrant {operation} on '{_collection}' failed with {e.StatusCode}: {detail}", e.StatusCode, detail, RedactedCause(e));
        }
    }

    /// <summary>Runs one call that answers nothing the caller reads.</summary>
    public Task RunAsync(string operation, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        RunAsync(operation, async token =>
        {
            await call(token).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    private async Task<T> AttemptAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            return await call(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException { StatusCode: StatusCode.Cancelled } or OperationCanceledException &&
                                  timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new AttemptTimedOutException(e);
        }
    }

    // Defence in depth: should a server or proxy ever echo the key back, it still never reaches a message or a log.
    private string Redact(string text) =>
        _apiKey is null ? text : text.Replace(_apiKey, "***", StringComparison.Ordinal);

    // The gRPC exception's own message repeats the detail: keep it as the cause only when it cannot carry the key.
    private RpcException? RedactedCause(RpcException e) =>
        _apiKey is not null && e.ToString().Contains(_apiKey, StringComparison.Ordinal) ? null : e;

    private static string Shorten(string text) =>
        string.IsNullOrWhiteSpace(text) ? "(no detail)" : text.Length <= MaxErrorTextLength ? text : text[..MaxErrorTextLength] + "...";

    private sealed class AttemptTimedOutException(Exception inner) : Exception("The attempt timed out.", inner);

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Qdrant {Operation} on {Collection} done in {ElapsedMs:F1} ms")]
    private static partial void LogCompleted(ILogger logger, string operation, string collection, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Qdrant {Operation} on {Collection} failed with {Status}: {Error}")]
    private static partial void LogFailed(ILogger logger, string operation, string collection, StatusCode status, string error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Qdrant call on {Collection} failed transiently, attempt {Attempt} follows: {Error}")]
    private static partial void LogRetry(ILogger logger, int attempt, string collection, string error);
}
