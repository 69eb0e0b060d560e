using System.Net;
using System.Text;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>A request as the fake handler received it.</summary>
internal sealed record RecordedRequest(string Method, string PathAndQuery, string? Body, string? ApiKey, string? ContentType)
{
    /// <summary>The path and query without the leading slash, as <see cref="QdrantRequest.Path"/> writes it.</summary>
    public string Path => PathAndQuery.TrimStart('/');

    public override string ToString() => $"{Method} {PathAndQuery}";
}

/// <summary>
/// An in-process stand-in for the HTTP layer: it records every request and answers with scripted bodies. It exercises
/// the store's request/response flow; it is not a Qdrant server and proves nothing about one.
/// </summary>
internal sealed class FakeQdrantHandler : HttpMessageHandler
{
    private readonly List<(string Method, string PathPrefix, Func<RecordedRequest, (HttpStatusCode Status, string Body)> Answer)> _routes = [];
    private readonly List<RecordedRequest> _requests = [];

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToArray();
            }
        }
    }

    public TimeSpan Delay { get; set; }

    /// <summary>Answers requests whose method matches and whose path (without query) equals <paramref name="path"/>.</summary>
    public FakeQdrantHandler On(string method, string path, string body, HttpStatusCode status = HttpStatusCode.OK) =>
        On(method, path, _ => (status, body));

    public FakeQdrantHandler On(string method, string path, Func<RecordedRequest, (HttpStatusCode Status, string Body)> answer)
    {
        _routes.Insert(0, (method, path, answer));
        return this;
    }

    public HttpClient Client() => new(this, disposeHandler: false);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedRequest(
            request.Method.Method,
            request.RequestUri!.PathAndQuery,
            body,
            request.Headers.TryGetValues("api-key", out var keys) ? keys.Single() : null,
            request.Content?.Headers.ContentType?.MediaType);
        lock (_requests)
        {
            _requests.Add(recorded);
        }

        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        var path = request.RequestUri.AbsolutePath;
        foreach (var (method, routePath, answer) in _routes)
        {
            if (method == recorded.Method && path == routePath)
            {
                var (status, text) = answer(recorded);
                return new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
            }
        }

        return new HttpResponseMessage(HttpStatusCode.NotFound)
        {
            Content = new StringContent(QdrantAnswers.Error($"Not found: no route for {recorded}"), Encoding.UTF8, "application/json"),
        };
    }
}
