using Microsoft.Extensions.DependencyInjection;

namespace Mrl.Adapters;

/// <summary>
/// The registration every store package builds on: a singleton store as its own type and as <see cref="IAdaptiveStore{TKey}"/>,
/// under a service key or none. A second store for the same key type and service key is an error, not silently dropped or
/// silently preferred, so that an application never searches a store other than the one it configured.
/// </summary>
public static class AdaptiveStoreServiceCollectionExtensions
{
    /// <summary>Registers <paramref name="factory"/>'s store as <typeparamref name="TStore"/> and <see cref="IAdaptiveStore{TKey}"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="serviceKey">The key for a keyed registration (resolve with <c>[FromKeyedServices]</c>), or null.</param>
    /// <param name="factory">Creates the store from the service provider.</param>
    /// <exception cref="InvalidOperationException">An <see cref="IAdaptiveStore{TKey}"/> is already registered under this service key.</exception>
    public static IServiceCollection AddAdaptiveStore<TKey, TStore>(this IServiceCollection services, object? serviceKey, Func<IServiceProvider, TStore> factory)
        where TKey : notnull
        where TStore : class, IAdaptiveStore<TKey>
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        if (services.Any(d => d.ServiceType == typeof(IAdaptiveStore<TKey>) && Equals(d.ServiceKey, serviceKey)))
        {
            var which = serviceKey is null ? "without a service key" : $"under the service key '{serviceKey}'";
            throw new InvalidOperationException(
                $"An IAdaptiveStore<{typeof(TKey).Name}> is already registered {which}. Register each further store under a service key of its own (the AddKeyed... methods).");
        }

        if (serviceKey is null)
        {
            services.AddSingleton(factory);
            services.AddSingleton<IAdaptiveStore<TKey>>(sp => sp.GetRequiredService<TStore>());
        }
        else
        {
            services.AddKeyedSingleton(serviceKey, (sp, _) => factory(sp));
            services.AddKeyedSingleton<IAdaptiveStore<TKey>>(serviceKey, (sp, key) => sp.GetRequiredKeyedService<TStore>(key));
        }

        return services;
    }
}
