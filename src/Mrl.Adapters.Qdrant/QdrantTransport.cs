using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Sends <see cref="QdrantRequest"/>s: adds the <c>api-key</c> header, applies the request timeout, turns error
/// answers into <see cref="QdrantException"/>s with the server's <c>status.error</c>, and logs without the key.
/// </summary>
internal sealed partial class QdrantTransport
{
    private const int MaxErrorTextLength = 2000;

    // An error answer is read only this far: enough for Qdrant's JSON status and a proxy's page, never a runaway body.
    private const int MaxErrorBodyBytes = 64 * 1024;
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly Func<HttpClient> _httpClient;
    private readonly Uri _endpoint;
    private readonly string? _apiKey;
    private readonly TimeSpan _timeout;
    private readonly long _maxResponseBytes;
    private readonly ILogger _logger;

    public QdrantTransport(Func<HttpClient> httpClient, Uri endpoint, string? apiKey, TimeSpan timeout, long maxResponseBytes, ILogger logger)
    {
        _httpClient = httpClient;
        var text = endpoint.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        _endpoint = new Uri(text.EndsWith('/') ? text : text + "/", UriKind.Absolute);
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
        _timeout = timeout;
        _maxResponseBytes = maxResponseBytes;
        _logger = logger;

        // Over loopback the key never leaves the machine; anywhere else plain http shows it to everything on the way.
        if (_apiKey is not null && _endpoint.Scheme == Uri.UriSchemeHttp && !_endpoint.IsLoopback)
        {
            LogApiKeyInClearText(_logger, _endpoint);
        }
    }

    /// <summary>Sends the request and returns the parsed JSON answer; the caller disposes it.</summary>
    /// <exception cref="QdrantException">
    /// The server answered with an error status, with more than <see cref="QdrantStoreOptions.MaxResponseBytes"/>, or could not be reached.
    /// </exception>
    /// <exception cref="TimeoutException">No complete answer within the request timeout.</exception>
    public async Task<JsonDocument> SendAsync(QdrantRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(request.Method, new Uri(_endpoint, request.Path));
        if (_apiKey is not null)
        {
            message.Headers.TryAddWithoutValidation("api-key", _apiKey);
        }

        if (request.Body is { } body)
        {
            message.Content = new ReadOnlyMemoryContent(body);
            message.Content.Headers.ContentType = Json;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await _httpClient().SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var text = await ReadPrefixAsync(response.Content, timeout.Token).ConfigureAwait(false);
                var error = Redact(ExtractError(text));
                var status = (int)response.StatusCode;
                LogFailed(_logger, request.Method.Method, request.Path, status, error);
                throw new QdrantException(
                    string.Create(CultureInfo.InvariantCulture, $"Qdrant {request} failed with {status} {response.ReasonPhrase}: {error}"),
                    response.StatusCode, error);
            }

            if (response.Content.Headers.ContentLength is { } announced && announced > _maxResponseBytes)
            {
                throw BoundedResponseStream.TooLarge(request.ToString(), _maxResponseBytes, announced);
            }

            var stream = new BoundedResponseStream(
                await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false), _maxResponseBytes, request.ToString());
            await using (stream.ConfigureAwait(false))
            {
                JsonDocument document;
                try
                {
                    document = await JsonDocument.ParseAsync(stream, default, timeout.Token).ConfigureAwait(false);
                }
                catch (JsonException e)
                {
                    throw new QdrantException($"Qdrant {request} answered with a body that is not JSON: {e.Message}", e);
                }

                var elapsed = Stopwatch.GetElapsedTime(start);
                LogCompleted(_logger, request.Method.Method, request.Path, (int)response.StatusCode, elapsed.TotalMilliseconds);
                return document;
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                string.Create(CultureInfo.InvariantCulture,
                    $"Qdrant {request} did not answer within {_timeout.TotalSeconds} s (QdrantStoreOptions.RequestTimeout)."), e);
        }
        catch (HttpRequestException e)
        {
            throw new QdrantException($"Qdrant {request} could not be sent: {Redact(e.Message)}", e);
        }
    }

    /// <summary>Sends the request and returns a copy of its <c>result</c>.</summary>
    public async Task<JsonElement> SendForResultAsync(QdrantRequest request, CancellationToken cancellationToken)
    {
        using var document = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        return QdrantResponses.Result(document.RootElement, request).Clone();
    }

    /// <summary>The first <see cref="MaxErrorBodyBytes"/> of an error answer, as text; the rest is never read.</summary>
    private static async Task<string> ReadPrefixAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[MaxErrorBodyBytes];
            var length = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            return System.Text.Encoding.UTF8.GetString(buffer, 0, length);
        }
    }

    /// <summary>The server's <c>status.error</c> from an error body, or the body itself (shortened) when it has none.</summary>
    internal static string ExtractError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement is { ValueKind: JsonValueKind.Object } root &&
                root.TryGetProperty("status", out var status))
            {
                if (status.ValueKind == JsonValueKind.Object && status.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString()!;
                }

                if (status.ValueKind == JsonValueKind.String)
                {
                    return status.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): the text itself is the best description there is.
        }

        var text = body.Trim();
        if (text.Length == 0)
        {
            return "(empty body)";
        }

        return text.Length <= MaxErrorTextLength ? text : text[..MaxErrorTextLength] + "...";
    }

    // Defence in depth: should anything ever echo the key back, it still never reaches a message or a log.
    private string Redact(string text) =>
        _apiKey is null ? text : text.Replace(_apiKey, "***", StringComparison.Ordinal);

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "Qdrant {Method} /{Path} answered {Status} in {ElapsedMs:F1} ms")]
    private static partial void LogCompleted(ILogger logger, string method, string path, int status, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Qdrant {Method} /{Path} failed with {Status}: {Error}")]
    private static partial void LogFailed(ILogger logger, string method, string path, int status, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "The Qdrant endpoint {Endpoint} is plain http: the API key is sent in clear text with every request. Use https, or reach Qdrant over loopback only")]
    private static partial void LogApiKeyInClearText(ILogger logger, Uri endpoint);
}
