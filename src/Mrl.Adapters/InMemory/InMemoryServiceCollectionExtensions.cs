using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters;

/// <summary>Registers the in-memory store.</summary>
public static class InMemoryServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="InMemoryAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/>.</summary>
    public static IServiceCollection AddInMemoryAdaptiveStore<TKey>(this IServiceCollection services, EmbeddingLayout layout) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(layout);
        services.TryAddSingleton(_ => new InMemoryAdaptiveStore<TKey>(layout));
        services.TryAddSingleton<IAdaptiveStore<TKey>>(sp => sp.GetRequiredService<InMemoryAdaptiveStore<TKey>>());
        return services;
    }
}
