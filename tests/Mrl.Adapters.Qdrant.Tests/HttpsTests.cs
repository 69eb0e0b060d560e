using System.Net;
using System.Security.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// The store over real TLS: Kestrel in process on 127.0.0.1 with a self-signed certificate made for the run, answering
/// through the fake collection. The client trusts that certificate alone, through the primary handler of its HttpClient
/// (<c>ConfigurePrimaryHttpMessageHandler</c> when registered, the <see cref="HttpClient"/> constructor otherwise).
/// </summary>
public sealed class HttpsTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;

    public HttpsTests()
    {
        _loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
    }

    public void Dispose()
    {
        _loggers.Dispose();
        _qdrant.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task Over_https_a_registered_store_creates_upserts_and_searches_and_the_api_key_travels_only_inside_tls()
    {
        await using var server = await TlsQdrantServer.StartAsync(_qdrant);
        var collection = new FakeQdrantCollection(_qdrant, Samples.Layout(), exists: false);
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        services.AddQdrantAdaptiveStore<long>(o =>
            {
                o.Endpoint = server.Endpoint;
                o.ApiKey = Samples.ApiKey;
                o.Layout = Samples.Layout();
                o.Collection = "docs";
            })
            .ConfigurePrimaryHttpMessageHandler(() => server.TrustingHandler());
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IAdaptiveStore<long>>();
        var records = Samples.Records(i => (long)i, 20);

        await store.EnsureSchemaAsync();
        await store.UpsertAsync(records);
        var result = await store.SearchAsync(records[3].Vector, new SearchOptions { K = 5 });

        Assert.Equal(20, collection.PointCount);
        Assert.Equal(5, result.Hits.Count);
        Assert.Equal(3L, result.Hits[0].Key);
        var exchanges = server.Exchanges;
        Assert.Equal(
            ["GET /", "GET /collections/docs", "PUT /collections/docs", "PUT /collections/docs/points?wait=true", "POST /collections/docs/points/query"],
            exchanges.Select(e => $"{e.Method} {e.Target}"));
        Assert.All(exchanges, e =>
        {
            Assert.True(e.IsHttps);
            Assert.Contains(e.Protocol, new[] { SslProtocols.Tls12, SslProtocols.Tls13 });
            Assert.Equal(Samples.ApiKey, e.ApiKey);
        });
        AssertMatchesSpec();

        var lines = _logs.Lines;
        Assert.Contains(lines, l => l.Contains("POST /collections/docs/points/query answered 200", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("clear text", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Over_https_a_server_error_that_echoes_the_api_key_reaches_no_log_line_and_no_exception()
    {
        await using var server = await TlsQdrantServer.StartAsync(_qdrant);
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Error($"Forbidden: api-key {Samples.ApiKey} may not read docs"), HttpStatusCode.Forbidden);
        using var client = new HttpClient(server.TrustingHandler());
        var store = Store(client, server.Endpoint);

        var error = await Assert.ThrowsAsync<QdrantException>(() => store.CountAsync());

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Contains("failed with 403", error.Message, StringComparison.Ordinal);
        Assert.Contains("api-key *** may not read docs", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Samples.ApiKey, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(Samples.ApiKey, Assert.Single(server.Exchanges).ApiKey);
        var lines = _logs.Lines;
        Assert.Contains(lines, l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("failed with 403", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_fails_in_the_handshake_before_the_api_key_is_sent()
    {
        await using var server = await TlsQdrantServer.StartAsync(_qdrant);
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Count(1));
        using var client = new HttpClient();
        var store = Store(client, server.Endpoint);

        var error = await Assert.ThrowsAsync<QdrantException>(() => store.CountAsync());

        Assert.Contains("could not be sent", error.Message, StringComparison.Ordinal);
        Assert.IsType<AuthenticationException>(error.InnerException?.InnerException);
        Assert.DoesNotContain(Samples.ApiKey, error.ToString(), StringComparison.Ordinal);
        Assert.Empty(server.Exchanges);
        Assert.Empty(_qdrant.Requests);
        Assert.All(_logs.Lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
    }

    private QdrantAdaptiveStore<long> Store(HttpClient client, Uri endpoint)
    {
        var options = Samples.Options();
        options.Endpoint = endpoint;
        return new QdrantAdaptiveStore<long>(client, options, _loggers.CreateLogger<QdrantAdaptiveStore<long>>());
    }

    private void AssertMatchesSpec()
    {
        foreach (var request in _qdrant.Requests)
        {
            var problems = QdrantSpecs.TryGet("1.19")?.ValidateRequest(request.Method, request.Path, request.Body) ?? [];
            Assert.True(problems.Count == 0, $"{request}: {string.Join("\n", problems)}");
        }
    }
}
