using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mrl.Adapters.Qdrant;

/// <summary>Registers the Qdrant store.</summary>
public static class QdrantServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="QdrantAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/>, configured by
    /// <paramref name="configure"/> (validated at start-up) and sending through a named client of IHttpClientFactory.
    /// </summary>
    /// <returns>The named client's builder, to add handlers such as a resilience pipeline.</returns>
    public static IHttpClientBuilder AddQdrantAdaptiveStore<TKey>(this IServiceCollection services, Action<QdrantStoreOptions> configure) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var name = HttpClientName<TKey>();
        services.AddOptions<QdrantStoreOptions>(name).Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QdrantStoreOptions>>(new OptionsValidator(name)));
        services.TryAddSingleton(sp => new QdrantAdaptiveStore<TKey>(
            () => sp.GetRequiredService<IHttpClientFactory>().CreateClient(name),
            sp.GetRequiredService<IOptionsMonitor<QdrantStoreOptions>>().Get(name),
            sp.GetService<ILoggerFactory>()?.CreateLogger<QdrantAdaptiveStore<TKey>>()));
        services.TryAddSingleton<IAdaptiveStore<TKey>>(sp => sp.GetRequiredService<QdrantAdaptiveStore<TKey>>());

        // The store applies QdrantStoreOptions.RequestTimeout to each request itself.
        return services.AddHttpClient(name, client => client.Timeout = Timeout.InfiniteTimeSpan);
    }

    /// <summary>The name of the HTTP client and of the options for the store with <typeparamref name="TKey"/> keys.</summary>
    internal static string HttpClientName<TKey>() => "Mrl.Adapters.Qdrant." + typeof(TKey).FullName;

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
