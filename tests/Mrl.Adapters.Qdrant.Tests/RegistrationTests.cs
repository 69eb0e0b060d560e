using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mrl.Adapters.Qdrant.Tests.Support;
using Qdrant.Client;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class RegistrationTests : IDisposable
{
    private readonly FakeQdrantServer _qdrant = new();
    private readonly CapturingLoggerProvider _logs = new();

    public void Dispose()
    {
        _qdrant.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public async Task Registered_store_works_through_the_container_s_qdrant_client()
    {
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 3 } });
        var services = Services();
        services.AddSingleton(_ => _qdrant.CreateClient());
        services.AddQdrantAdaptiveStore<long>(o => Configure(o, "docs"));
        using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IAdaptiveStore<long>>();

        Assert.Same(provider.GetRequiredService<QdrantAdaptiveStore<long>>(), store);
        Assert.Equal(3, await store.CountAsync());
        var call = Assert.Single(_qdrant.Calls);
        Assert.Equal("docs", call.As<Proto.CountPoints>().CollectionName);
        Assert.Equal(Samples.ApiKey, call.ApiKey);
    }

    [Fact]
    public async Task Keyed_stores_use_the_client_of_their_key_and_their_own_collection()
    {
        using var other = new FakeQdrantServer();
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 1 } });
        other.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 2 } });
        var services = Services();
        services.AddKeyedSingleton("main", (_, _) => _qdrant.CreateClient());
        services.AddKeyedSingleton("archive", (_, _) => other.CreateClient());
        services.AddKeyedQdrantAdaptiveStore<long>("docs", o => Configure(o, "docs"), clientKey: "main");
        services.AddKeyedQdrantAdaptiveStore<long>("old", o => Configure(o, "old-docs"), clientKey: "archive");
        using var provider = services.BuildServiceProvider();

        var docs = provider.GetRequiredKeyedService<IAdaptiveStore<long>>("docs");
        var old = provider.GetRequiredKeyedService<IAdaptiveStore<long>>("old");

        Assert.Equal(1, await docs.CountAsync());
        Assert.Equal(2, await old.CountAsync());
        Assert.Equal("docs", Assert.Single(_qdrant.Calls).As<Proto.CountPoints>().CollectionName);
        Assert.Equal("old-docs", Assert.Single(other.Calls).As<Proto.CountPoints>().CollectionName);
        Assert.Null(provider.GetService<IAdaptiveStore<long>>());
    }

    [Fact]
    public void Without_a_client_in_the_container_the_store_makes_one_from_the_endpoint_and_the_container_disposes_it()
    {
        var services = Services();
        services.AddQdrantAdaptiveStore<long>(o =>
        {
            Configure(o, "docs");
            o.Endpoint = new Uri("http://localhost:6334");
        });
        var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<IAdaptiveStore<long>>());
        provider.Dispose();
    }

    [Fact]
    public void Without_a_client_and_without_an_endpoint_resolving_says_what_to_set()
    {
        var services = Services();
        services.AddQdrantAdaptiveStore<long>(o => Configure(o, "docs"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IAdaptiveStore<long>>());

        Assert.Contains("register one in the container", error.Message, StringComparison.Ordinal);
        Assert.Contains("QdrantStoreOptions.Endpoint", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://qdrant.test:6334", true, true)]
    [InlineData("https://qdrant.test:6334", true, false)]
    [InlineData("http://localhost:6334", true, false)]
    [InlineData("http://127.0.0.1:6334", true, false)]
    [InlineData("http://[::1]:6334", true, false)]
    [InlineData("http://qdrant.test:6334", false, false)]
    public void A_client_made_for_an_api_key_over_plain_http_away_from_loopback_is_warned_about_once_without_the_key(string endpoint, bool withKey, bool warns)
    {
        var services = Services();
        services.AddQdrantAdaptiveStore<long>(o =>
        {
            Configure(o, "docs");
            o.Endpoint = new Uri(endpoint);
            o.ApiKey = withKey ? Samples.ApiKey : null;
        });
        using var provider = services.BuildServiceProvider();

        _ = provider.GetRequiredService<IAdaptiveStore<long>>();

        var warnings = _logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal) && l.Contains("clear text", StringComparison.Ordinal)).ToArray();
        Assert.Equal(warns ? 1 : 0, warnings.Length);
        if (warns)
        {
            Assert.Contains("qdrant.test", warnings[0], StringComparison.Ordinal);
            Assert.Contains("Use https", warnings[0], StringComparison.Ordinal);
        }

        Assert.All(_logs.Lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_api_key_appears_in_no_log_line_and_no_exception_message()
    {
        _qdrant.On("qdrant.Points/Count", _ => new Proto.CountResponse { Result = new Proto.CountResult { Count = 3 } })
            .Fail("qdrant.Points/Upsert", StatusCode.InvalidArgument, "Wrong input: bad point")
            .Fail("qdrant.Qdrant/HealthCheck", StatusCode.Unauthenticated, $"Invalid api-key {Samples.ApiKey}");
        var services = Services();
        services.AddSingleton(_ => _qdrant.CreateClient());
        services.AddQdrantAdaptiveStore<long>(o => Configure(o, "docs"));
        using var provider = services.BuildServiceProvider();
        var store = provider.GetRequiredService<IAdaptiveStore<long>>();

        await store.CountAsync();
        var upsert = await Assert.ThrowsAsync<QdrantException>(() => store.UpsertAsync(Samples.Records(i => (long)i, 2)));
        var schema = await Assert.ThrowsAsync<QdrantException>(() => store.EnsureSchemaAsync());

        var lines = _logs.Lines;
        Assert.Contains(lines, l => l.Contains("Count on docs", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Wrong input: bad point", StringComparison.Ordinal));
        Assert.All(_qdrant.Calls, c => Assert.Equal(Samples.ApiKey, c.ApiKey));
        Assert.All(lines, l => Assert.DoesNotContain(Samples.ApiKey, l, StringComparison.Ordinal));
        foreach (var error in new Exception[] { upsert, schema })
        {
            Assert.DoesNotContain(Samples.ApiKey, error.ToString(), StringComparison.Ordinal);
        }

        Assert.Equal(StatusCode.Unauthenticated, schema.StatusCode);
    }

    [Fact]
    public void Invalid_options_fail_when_the_store_is_resolved_and_list_the_problems()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_ => _qdrant.CreateClient());
        services.AddQdrantAdaptiveStore<long>(o => o.RetryAttempts = -2);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IAdaptiveStore<long>>());
        Assert.Contains("Layout is not set", error.Message, StringComparison.Ordinal);
        Assert.Contains("Collection is not set", error.Message, StringComparison.Ordinal);
        Assert.Contains("RetryAttempts", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stores_with_different_key_types_get_their_own_options()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_ => _qdrant.CreateClient());
        services.AddQdrantAdaptiveStore<long>(o => Configure(o, "numbers"));
        services.AddQdrantAdaptiveStore<string>(o => Configure(o, "names"));
        using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService<IOptionsMonitor<QdrantStoreOptions>>();

        Assert.Equal("numbers", monitor.Get(QdrantServiceCollectionExtensions.OptionsName<long>(null)).Collection);
        Assert.Equal("names", monitor.Get(QdrantServiceCollectionExtensions.OptionsName<string>(null)).Collection);
        Assert.NotNull(provider.GetRequiredService<IAdaptiveStore<string>>());
    }

    private ServiceCollection Services()
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        return services;
    }

    private static void Configure(QdrantStoreOptions options, string collection)
    {
        var sample = Samples.Options(collection: collection);
        options.ApiKey = sample.ApiKey;
        options.Layout = sample.Layout;
        options.Collection = sample.Collection;
    }
}
