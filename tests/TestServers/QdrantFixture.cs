using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using Xunit;

namespace Mrl.Adapters.Testing;

/// <summary>
/// A Qdrant server for integration tests, found in this order:
/// <list type="number">
/// <item>the REST URL in <c>MRL_TEST_QDRANT_URL</c> (with the API key in <c>MRL_TEST_QDRANT_API_KEY</c>, if it needs one),
/// and its gRPC URL in <c>MRL_TEST_QDRANT_GRPC_URL</c> (default: the same host on port 6334);</item>
/// <item>a Testcontainers container of <c>qdrant/qdrant:v1.19.0</c>, when a Docker engine answers;</item>
/// <item>none: tests that call <see cref="RequireServer"/> are skipped with the reason.</item>
/// </list>
/// When <c>CI=true</c> and <c>MRL_TEST_QDRANT_URL</c> is set, a server that does not answer fails those tests instead.
/// Use it as an xunit class or collection fixture.
/// </summary>
public sealed class QdrantFixture : IAsyncLifetime, IDisposable
{
    /// <summary>The environment variable with the URL of a running Qdrant, e.g. <c>http://localhost:6333</c>.</summary>
    public const string UrlVariable = "MRL_TEST_QDRANT_URL";

    /// <summary>The environment variable with that server's gRPC URL, e.g. <c>http://localhost:6334</c>; default: the REST URL's host on port 6334.</summary>
    public const string GrpcUrlVariable = "MRL_TEST_QDRANT_GRPC_URL";

    /// <summary>The environment variable with that server's API key, when it needs one.</summary>
    public const string ApiKeyVariable = "MRL_TEST_QDRANT_API_KEY";

    /// <summary>The image started when no URL is given and a Docker engine answers.</summary>
    public const string Image = "qdrant/qdrant:v1.19.0";

    private const int QdrantHttpPort = 6333;
    private const int QdrantGrpcPort = 6334;
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    private readonly ConcurrentBag<string> _collections = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(2) };
    private IContainer? _container;

    /// <summary>The server's REST endpoint, or null when there is none; tests use it to set up and inspect collections.</summary>
    public Uri? Endpoint { get; private set; }

    /// <summary>The server's gRPC endpoint, for a <c>QdrantClient</c>, or null when there is none.</summary>
    public Uri? GrpcEndpoint { get; private set; }

    /// <summary>The server's API key, or null.</summary>
    public string? ApiKey { get; private set; }

    /// <summary>Why there is no server, or null when there is one.</summary>
    public string? SkipReason { get; private set; }

    /// <summary>Where the server came from: the environment variable or the container image.</summary>
    public string? Source { get; private set; }

    /// <summary>A client tests may share to reach the server (it has no base address; the API key is not set on it).</summary>
    public HttpClient HttpClient => _http;

    /// <summary>Finds or starts the server; never throws for a missing one, it records the reason instead.</summary>
    public async Task InitializeAsync()
    {
        var url = Environment.GetEnvironmentVariable(UrlVariable);
        if (!string.IsNullOrWhiteSpace(url))
        {
            ApiKey = Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                SkipReason = $"{UrlVariable}='{url}' is not an http or https URL.";
                return;
            }

            Source = UrlVariable;
            if (!endpoint.AbsolutePath.EndsWith('/'))
            {
                endpoint = new Uri(endpoint.AbsoluteUri + "/");
            }

            var grpcUrl = Environment.GetEnvironmentVariable(GrpcUrlVariable);
            Uri? grpc;
            if (string.IsNullOrWhiteSpace(grpcUrl))
            {
                grpc = new UriBuilder(endpoint.Scheme, endpoint.Host, QdrantGrpcPort).Uri;
            }
            else if (!Uri.TryCreate(grpcUrl, UriKind.Absolute, out grpc) || (grpc.Scheme != Uri.UriSchemeHttp && grpc.Scheme != Uri.UriSchemeHttps))
            {
                SkipReason = $"{GrpcUrlVariable}='{grpcUrl}' is not an http or https URL.";
                return;
            }

            SkipReason = await ProbeAsync(endpoint).ConfigureAwait(false);
            Endpoint = SkipReason is null ? endpoint : null;
            GrpcEndpoint = SkipReason is null ? grpc : null;
            return;
        }

        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
        {
            SkipReason = $"No Qdrant server: {UrlVariable} is not set and no Docker engine answered (Testcontainers found no Docker endpoint), " +
                                $"so {Image} cannot be started.";
            return;
        }

        try
        {
            _container = new ContainerBuilder(Image)
                .WithPortBinding(QdrantHttpPort, true)
                .WithPortBinding(QdrantGrpcPort, true)
                .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(QdrantHttpPort).ForPath("/readyz")))
                .Build();
            await _container.StartAsync().ConfigureAwait(false);
            var endpoint = new UriBuilder(Uri.UriSchemeHttp, _container.Hostname, _container.GetMappedPublicPort(QdrantHttpPort)).Uri;
            Source = "Testcontainers " + Image;
            SkipReason = await ProbeAsync(endpoint).ConfigureAwait(false);
            Endpoint = SkipReason is null ? endpoint : null;
            GrpcEndpoint = SkipReason is null ? new UriBuilder(Uri.UriSchemeHttp, _container.Hostname, _container.GetMappedPublicPort(QdrantGrpcPort)).Uri : null;
        }
        catch (DockerUnavailableException e)
        {
            SkipReason = $"No Qdrant server: {UrlVariable} is not set and the Docker engine did not answer ({e.Message.Split('\n')[0].Trim()}).";
        }
    }

    /// <summary>
    /// Skips the calling test with <see cref="SkipReason"/> when there is no server, or fails it when <c>CI=true</c> and
    /// <c>MRL_TEST_QDRANT_URL</c> says there should be one.
    /// </summary>
    public void RequireServer()
    {
        if (SkipReason is not null)
        {
            TestEnvironment.SkipOrFail(SkipReason, requiredInCi: !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(UrlVariable)));
        }
    }

    /// <summary>A collection name no other test uses; the collection (if created) is deleted when the fixture is disposed.</summary>
    public string NewCollectionName(string prefix)
    {
        var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{Guid.NewGuid():N}");
        _collections.Add(name);
        return name;
    }

    /// <summary>Sends a JSON request to the server with its API key and returns the answer's text; throws on an error status.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="path">The path and query from the server root, without a leading slash.</param>
    /// <param name="json">The JSON body, or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<string> SendJsonAsync(HttpMethod method, string path, string? json, CancellationToken cancellationToken = default)
    {
        RequireServer();
        using var request = Request(method, new Uri(Endpoint!, path), json);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(string.Create(CultureInfo.InvariantCulture, $"{method} /{path} answered {(int)response.StatusCode}: {text}"));
        }

        return text;
    }

    /// <summary>Deletes the collections handed out by <see cref="NewCollectionName"/>, then stops the container.</summary>
    public async Task DisposeAsync()
    {
        if (Endpoint is not null)
        {
            foreach (var name in _collections)
            {
                // DELETE answers 200 whether or not the collection exists.
                await SendJsonAsync(HttpMethod.Delete, "collections/" + Uri.EscapeDataString(name), null).ConfigureAwait(false);
            }
        }

        if (_container is not null)
        {
            await _container.DisposeAsync().ConfigureAwait(false);
        }

        Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<string?> ProbeAsync(Uri endpoint)
    {
        using var timeout = new CancellationTokenSource(ProbeTimeout);
        try
        {
            using var request = Request(HttpMethod.Get, endpoint, null);
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"Qdrant at {endpoint} ({Source}) answered GET / with {(int)response.StatusCode}.");
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return $"Qdrant at {endpoint} ({Source}) did not answer GET / within {ProbeTimeout.TotalSeconds} s: {e.Message}";
        }
    }

    private HttpRequestMessage Request(HttpMethod method, Uri uri, string? json)
    {
        var request = new HttpRequestMessage(method, uri);
        if (ApiKey is not null)
        {
            request.Headers.TryAddWithoutValidation("api-key", ApiKey);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return request;
    }
}
