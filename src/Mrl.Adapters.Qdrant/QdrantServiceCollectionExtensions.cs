using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Qdrant.Client;

namespace Mrl.Adapters.Qdrant;

/// <summary>Registers the Qdrant store.</summary>
public static partial class QdrantServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="QdrantAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/>, configured by
    /// <paramref name="configure"/> (validated at start-up). It works through the <see cref="QdrantClient"/> registered in
    /// the container when there is one, and otherwise through a client of its own made from
    /// <see cref="QdrantStoreOptions.Endpoint"/> and <see cref="QdrantStoreOptions.ApiKey"/>, which the container disposes.
    /// </summary>
    public static IServiceCollection AddQdrantAdaptiveStore<TKey>(this IServiceCollection services, Action<QdrantStoreOptions> configure) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var name = OptionsName<TKey>(null);
        services.AddAdaptiveStore<TKey, QdrantAdaptiveStore<TKey>>(null, sp => CreateStore<TKey>(sp, name, clientKey: null));
        AddOptions(services, name, configure);
        return services;
    }

    /// <summary>
    /// Registers a keyed singleton <see cref="QdrantAdaptiveStore{TKey}"/> (and <see cref="IAdaptiveStore{TKey}"/>) under
    /// <paramref name="serviceKey"/>, so one application can keep several collections. It works through the
    /// <see cref="QdrantClient"/> registered under <paramref name="clientKey"/> when that is given, else through the
    /// container's unkeyed client when there is one, else through a client of its own made from the options.
    /// </summary>
    public static IServiceCollection AddKeyedQdrantAdaptiveStore<TKey>(
        this IServiceCollection services, object serviceKey, Action<QdrantStoreOptions> configure, object? clientKey = null) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(serviceKey);
        ArgumentNullException.ThrowIfNull(configure);
        var name = OptionsName<TKey>(serviceKey);
        services.AddAdaptiveStore<TKey, QdrantAdaptiveStore<TKey>>(serviceKey, sp => CreateStore<TKey>(sp, name, clientKey));
        AddOptions(services, name, configure);
        return services;
    }

    /// <summary>The name of the options (and of a client the registration makes) for the store with <typeparamref name="TKey"/> keys.</summary>
    internal static string OptionsName<TKey>(object? serviceKey) =>
        "Mrl.Adapters.Qdrant." + typeof(TKey).FullName + (serviceKey is null ? "" : "/" + serviceKey);

    private static void AddOptions(IServiceCollection services, string name, Action<QdrantStoreOptions> configure)
    {
        services.AddOptions<QdrantStoreOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QdrantStoreOptions>>(new OptionsValidator(name)));
        services.TryAddKeyedSingleton(name, (sp, _) => new OwnedClient(sp.GetRequiredService<IOptionsMonitor<QdrantStoreOptions>>().Get(name), sp.GetService<ILoggerFactory>()));
    }

    private static QdrantAdaptiveStore<TKey> CreateStore<TKey>(IServiceProvider sp, string name, object? clientKey) where TKey : notnull
    {
        var options = sp.GetRequiredService<IOptionsMonitor<QdrantStoreOptions>>().Get(name);
        var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<QdrantAdaptiveStore<TKey>>();
        var client = clientKey is not null ? sp.GetRequiredKeyedService<QdrantClient>(clientKey) : sp.GetService<QdrantClient>();
        if (client is not null)
        {
            return new QdrantAdaptiveStore<TKey>(client, options, logger, apiKey: null);
        }

        var owned = sp.GetRequiredKeyedService<OwnedClient>(name);
        return new QdrantAdaptiveStore<TKey>(owned.Client, options, logger, options.ApiKey);
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning,
        Message = "The Qdrant endpoint {Endpoint} is plain http: the API key is sent in clear text with every call. Use https, or reach Qdrant over loopback only")]
    private static partial void LogApiKeyInClearText(ILogger logger, Uri endpoint);

    /// <summary>A client made from the options because the container has none; the container disposes it with this holder.</summary>
    private sealed class OwnedClient : IDisposable
    {
        private readonly Lazy<QdrantClient> _client;

        public OwnedClient(QdrantStoreOptions options, ILoggerFactory? loggerFactory)
        {
            _client = new Lazy<QdrantClient>(() =>
            {
                var endpoint = options.Endpoint ?? throw new InvalidOperationException(
                    "The Qdrant store has no QdrantClient: register one in the container (services.AddSingleton(new QdrantClient(...))), " +
                    "or set QdrantStoreOptions.Endpoint to Qdrant's gRPC endpoint, e.g. http://localhost:6334.");

                // Over loopback the key never leaves the machine; anywhere else plain http shows it to everything on the way.
                if (!string.IsNullOrEmpty(options.ApiKey) && endpoint.Scheme == Uri.UriSchemeHttp && !endpoint.IsLoopback && loggerFactory is not null)
                {
                    LogApiKeyInClearText(loggerFactory.CreateLogger(typeof(QdrantAdaptiveStore<>)), endpoint);
                }

                return new QdrantClient(endpoint, string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey, loggerFactory: loggerFactory);
            });
        }

        public QdrantClient Client => _client.Value;

        public void Dispose()
        {
            if (_client.IsValueCreated)
            {
                _client.Value.Dispose();
            }
        }
    }

    private sealed class OptionsValidator(string name) : IValidateOptions<QdrantStoreOptions>
    {
        public ValidateOptionsResult Validate(string? optionsName, QdrantStoreOptions options)
        {
            if (!string.Equals(optionsName, name, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            var problems = options.Problems();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
