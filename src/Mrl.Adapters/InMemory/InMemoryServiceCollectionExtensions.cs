using Microsoft.Extensions.DependencyInjection;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters;

/// <summary>Registers the in-memory store.</summary>
public static class InMemoryServiceCollectionExtensions
{
    /// <summary>Registers a singleton <see cref="InMemoryAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/>.</summary>
    /// <exception cref="InvalidOperationException">A store with <typeparamref name="TKey"/> keys is already registered without a service key.</exception>
    public static IServiceCollection AddInMemoryAdaptiveStore<TKey>(this IServiceCollection services, EmbeddingLayout layout) where TKey : notnull =>
        services.AddKeyedInMemoryAdaptiveStore<TKey>(null, layout);

    /// <summary>Registers a singleton <see cref="InMemoryAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/> under <paramref name="serviceKey"/>.</summary>
    /// <exception cref="InvalidOperationException">A store with <typeparamref name="TKey"/> keys is already registered under that key.</exception>
    public static IServiceCollection AddKeyedInMemoryAdaptiveStore<TKey>(this IServiceCollection services, object? serviceKey, EmbeddingLayout layout) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(layout);
        return services.AddAdaptiveStore<TKey, InMemoryAdaptiveStore<TKey>>(serviceKey, _ => new InMemoryAdaptiveStore<TKey>(layout));
    }
}
