using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>A call as it arrived at <see cref="TlsQdrantServer"/>: over which HTTP and TLS version, and with which api-key header.</summary>
internal sealed record TlsExchange(string Path, string Protocol, bool IsHttps, SslProtocols Tls, string? ApiKey);

/// <summary>
/// Kestrel on 127.0.0.1, HTTP/2 over TLS only, with a self-signed certificate made for the test run (CN=localhost; SAN
/// localhost and 127.0.0.1). Each gRPC call is answered by a <see cref="FakeQdrantServer"/>, so recording and answers
/// are the same as in the other flow tests, and each is also recorded as it arrived on the TLS connection. The client
/// side is Qdrant.Client's own channel, with its own TLS settings.
/// </summary>
internal sealed class TlsQdrantServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<TlsExchange> _exchanges;

    private TlsQdrantServer(WebApplication app, List<TlsExchange> exchanges, X509Certificate2 certificate, Uri endpoint)
    {
        _app = app;
        _exchanges = exchanges;
        Certificate = certificate;
        Endpoint = endpoint;
    }

    /// <summary>The server's certificate, which no machine trusts unless told to.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The SHA-256 thumbprint of <see cref="Certificate"/>, as Qdrant.Client's <c>ClientConfiguration.CertificateThumbprint</c> takes it.</summary>
    public string Thumbprint => Certificate.GetCertHashString(HashAlgorithmName.SHA256);

    /// <summary><c>https://127.0.0.1:{port}</c>.</summary>
    public Uri Endpoint { get; }

    public IReadOnlyList<TlsExchange> Exchanges
    {
        get
        {
            lock (_exchanges)
            {
                return _exchanges.ToArray();
            }
        }
    }

    public static async Task<TlsQdrantServer> StartAsync(FakeQdrantServer qdrant)
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.UseHttps(certificate);
        }));
        var app = builder.Build();
        var exchanges = new List<TlsExchange>();
        app.Run(async context =>
        {
            var tls = context.Features.Get<ITlsHandshakeFeature>();
            var apiKey = context.Request.Headers.TryGetValue("api-key", out var key) ? key.ToString() : null;
            lock (exchanges)
            {
                exchanges.Add(new TlsExchange(context.Request.Path, context.Request.Protocol, context.Request.IsHttps, tls?.Protocol ?? SslProtocols.None, apiKey));
            }

            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var (status, detail, message) = await qdrant.AnswerAsync(context.Request.Path, body.ToArray(), apiKey, context.RequestAborted);
            context.Response.ContentType = "application/grpc";
            if (message is not null)
            {
                await context.Response.Body.WriteAsync(message, context.RequestAborted);
            }

            context.Response.AppendTrailer("grpc-status", ((int)status).ToString(CultureInfo.InvariantCulture));
            if (message is null)
            {
                context.Response.AppendTrailer("grpc-message", Uri.EscapeDataString(detail));
            }
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new TlsQdrantServer(app, exchanges, certificate, new Uri($"https://127.0.0.1:{new Uri(address).Port}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        var now = DateTimeOffset.UtcNow;
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddHours(1));

        // A round trip through PKCS#12 gives a certificate whose private key every platform's TLS stack can use.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }
}
