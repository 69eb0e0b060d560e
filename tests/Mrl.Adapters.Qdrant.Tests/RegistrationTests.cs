using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mrl.Adapters.Qdrant.Tests.Support;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class RegistrationTests : IDisposable
{
    private readonly FakeQdrantHandler _qdrant = new();
    private readonly CapturingLoggerProvider _logs = new();

    public void Dispose()
    {
        _qdrant.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task Registered_store_sends_through_the_named_http_client_with_the_api_key()
    {
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Count(3));
        using var services = Services().BuildServiceProvider();

        var store = services.GetRequiredService<IAdaptiveStore<long>>();

        Assert.Same(services.GetRequiredService<QdrantAdaptiveStore<long>>(), store);
        Assert.Equal(3, await store.CountAsync());
        Assert.Equal(Samples.ApiKey, Assert.Single(_qdrant.Requests).ApiKey);
    }

    [Fact]
    public async Task The_api_key_appears_in_no_log_line_and_no_exception_message()
    {
        _qdrant.On("POST", "/collections/docs/points/count", QdrantAnswers.Count(3))
            .On("PUT", "/collections/docs/points", QdrantAnswers.Error("Wrong input: bad point"), HttpStatusCode.BadRequest)
            .On("GET", "/", QdrantAnswers.Error("Must provide an API key or an Authorization bearer token"), HttpStatusCode.Unauthorized);
        using var services = Services().BuildServiceProvider();
        var store = services.GetRequiredService<IAdaptiveStore<long>>();

        await store.CountAsync();
        var upsert = await Assert.ThrowsAsync<QdrantException>(() => store.UpsertAsync(Samples.Records(i => (long)i, 2)));
        var schema = await Assert.ThrowsAsync<QdrantException>(() => store.EnsureSchemaAsync());

        var lines = _logs.Lines;
        Assert.Contains(lines, l => l.Contains("/collections/docs/points/count", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Wrong input: bad point", StringComparison.Ordinal));
        Assert.All(_qdrant.Requests, r => Assert.Equal(Samples.ApiKey, r.ApiKey));
        Assert.All(lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
        foreach (var error in new Exception[] { upsert, schema })
        {
            Assert.DoesNotContain(Samples.ApiKey, error.ToString(), StringComparison.Ordinal);
        }

        Assert.Contains("401", schema.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_fail_when_the_store_is_resolved_and_list_the_problems()
    {
        var services = new ServiceCollection();
        services.AddQdrantAdaptiveStore<long>(o => o.Endpoint = new Uri("http://qdrant.test:6333"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IAdaptiveStore<long>>());
        Assert.Contains("Layout is not set", error.Message, StringComparison.Ordinal);
        Assert.Contains("Collection is not set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stores_with_different_key_types_get_their_own_options()
    {
        var services = new ServiceCollection();
        services.AddQdrantAdaptiveStore<long>(o => Configure(o, "numbers"));
        services.AddQdrantAdaptiveStore<string>(o => Configure(o, "names"));
        using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IOptionsMonitor<QdrantStoreOptions>>();

        Assert.Equal("numbers", monitor.Get(QdrantServiceCollectionExtensions.HttpClientName<long>()).Collection);
        Assert.Equal("names", monitor.Get(QdrantServiceCollectionExtensions.HttpClientName<string>()).Collection);
        Assert.NotNull(provider.GetRequiredService<IAdaptiveStore<string>>());
    }

    private ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        services.AddQdrantAdaptiveStore<long>(o => Configure(o, "docs"))
            .ConfigurePrimaryHttpMessageHandler(() => _qdrant);
        return services;
    }

    private static void Configure(QdrantStoreOptions options, string collection)
    {
        var sample = Samples.Options(collection: collection);
        options.Endpoint = sample.Endpoint;
        options.ApiKey = sample.ApiKey;
        options.Layout = sample.Layout;
        options.Collection = sample.Collection;
    }
}
