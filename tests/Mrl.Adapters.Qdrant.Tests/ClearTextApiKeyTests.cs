using Microsoft.Extensions.Logging;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

/// <summary>An API key sent over plain http is readable by everything on the way: the store says so once, without the key.</summary>
public sealed class ClearTextApiKeyTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();
    private readonly CapturingLoggerProvider _logs = new();

    public void Dispose()
    {
        _qdrant.Dispose();
        _logs.Dispose();
    }

    [Theory]
    [InlineData("http://qdrant.test:6333", true, true)]
    [InlineData("http://qdrant.test:6333/behind/a/proxy", true, true)]
    [InlineData("https://qdrant.test:6333", true, false)]
    [InlineData("http://localhost:6333", true, false)]
    [InlineData("http://127.0.0.1:6333", true, false)]
    [InlineData("http://[::1]:6333", true, false)]
    [InlineData("http://qdrant.test:6333", false, false)]
    public void An_api_key_over_plain_http_away_from_loopback_is_warned_about_once_without_the_key(string endpoint, bool withKey, bool warns)
    {
        var options = Samples.Options();
        options.Endpoint = new Uri(endpoint);
        options.ApiKey = withKey ? Samples.ApiKey : null;
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));

        _ = new QdrantAdaptiveStore<long>(_qdrant.Client(), options, loggers.CreateLogger<QdrantAdaptiveStore<long>>());

        var warnings = _logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("clear text", StringComparison.Ordinal)).ToArray();
        Assert.Equal(warns ? 1 : 0, warnings.Length);
        if (warns)
        {
            Assert.Contains(endpoint, warnings[0], StringComparison.Ordinal);
            Assert.Contains("Use https", warnings[0], StringComparison.Ordinal);
        }

        Assert.All(_logs.Lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
        Assert.Empty(_qdrant.Requests);
    }
}
