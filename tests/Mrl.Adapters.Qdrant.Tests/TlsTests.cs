using System.Security.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>
/// Qdrant.Client's own TLS, end to end over a real socket: the store's calls go through a <see cref="QdrantChannel"/>
/// that pins the server's self-signed certificate by thumbprint, to Kestrel serving HTTP/2 over TLS in process.
/// </summary>
public sealed class TlsTests : IAsyncLifetime, IDisposable
{
    private readonly FakeQdrantServer _qdrant = new();
    private readonly CapturingLoggerProvider _logs = new();
    private TlsQdrantServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TlsQdrantServer.StartAsync(_qdrant);
        _ = new FakeQdrantCollection(_qdrant);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _qdrant.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task Over_tls_a_registered_store_creates_upserts_and_searches_and_the_api_key_travels_only_inside_tls()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        services.AddSingleton(_ => Client(_server.Thumbprint));
        services.AddQdrantAdaptiveStore<long>(o =>
        {
            o.ApiKey = Samples.ApiKey;
            o.Layout = Samples.Layout();
            o.Collection = "docs";
        });
        await using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IAdaptiveStore<long>>();
        var records = Samples.Records(i => (long)i, 20);

        await store.EnsureSchemaAsync();
        await store.UpsertAsync(records);
        var result = await store.SearchAsync(records[7].Vector, new SearchOptions { K = 3, Oversampling = 4 });

        Assert.Equal(7L, result.Hits[0].Key);
        var exchanges = _server.Exchanges;
        Assert.Equal(["/qdrant.Qdrant/HealthCheck", "/qdrant.Collections/Get", "/qdrant.Collections/Create", "/qdrant.Points/Upsert", "/qdrant.Points/Query"],
            exchanges.Select(e => e.Path));
        Assert.All(exchanges, e =>
        {
            Assert.True(e.IsHttps);
            Assert.Equal("HTTP/2", e.Protocol);
            Assert.Contains(e.Tls, new[] { SslProtocols.Tls12, SslProtocols.Tls13 });
            Assert.Equal(Samples.ApiKey, e.ApiKey);
        });
        ProtoSurface.Of("1.19.0").AssertSupports(_qdrant.Calls);
        Assert.All(_logs.Lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("clear text", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_that_pins_another_certificate_fails_in_the_handshake_before_the_api_key_is_sent()
    {
        using var client = Client(new string('A', 64));
        var store = new QdrantAdaptiveStore<long>(client, Samples.Options());

        var error = await Assert.ThrowsAsync<QdrantException>(() => store.CountAsync());

        // Grpc.Net.Client reports a failed handshake as Internal, which is not retried: another attempt would fail the same way.
        Assert.Equal(Grpc.Core.StatusCode.Internal, error.StatusCode);
        Assert.Contains("SSL", error.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_server.Exchanges);
        Assert.DoesNotContain(Samples.ApiKey, error.ToString(), StringComparison.Ordinal);
    }

    private QdrantClient Client(string thumbprint) =>
        new(new QdrantGrpcClient(QdrantChannel.ForAddress(_server.Endpoint, new ClientConfiguration { ApiKey = Samples.ApiKey, CertificateThumbprint = thumbprint })));
}
