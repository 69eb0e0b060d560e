using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;

namespace Mrl.Adapters.VectorData;

/// <summary>Registers <see cref="AdaptiveVectorStore"/> and its collections, plainly or under a service key.</summary>
public static class AdaptiveVectorStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="AdaptiveVectorStore"/> as itself and as <see cref="VectorStore"/>. Its collections come from
    /// <paramref name="storeFactory"/>, or from the <see cref="IAdaptiveStoreFactory"/> in the container; its embedding
    /// generator from the options, or the <see cref="IEmbeddingGenerator"/> (or <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>) in the container when there is one.
    /// </summary>
    public static IServiceCollection AddAdaptiveVectorStore(
        this IServiceCollection services, Func<IServiceProvider, IAdaptiveStoreFactory>? storeFactory = null,
        Action<AdaptiveVectorStoreOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton) =>
        services.AddKeyedAdaptiveVectorStore(serviceKey: null, storeFactory, configure, lifetime);

    /// <summary>
    /// Registers an <see cref="AdaptiveVectorStore"/> under <paramref name="serviceKey"/>, as itself and as <see cref="VectorStore"/>.
    /// The store factory and embedding generator are looked up under the same key first, then without one.
    /// </summary>
    public static IServiceCollection AddKeyedAdaptiveVectorStore(
        this IServiceCollection services, object? serviceKey, Func<IServiceProvider, IAdaptiveStoreFactory>? storeFactory = null,
        Action<AdaptiveVectorStoreOptions>? configure = null, ServiceLifetime lifetime = ServiceLifetime.Singleton)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Add(new ServiceDescriptor(typeof(AdaptiveVectorStore), serviceKey, (sp, key) =>
        {
            var options = new AdaptiveVectorStoreOptions();
            configure?.Invoke(options);
            options.EmbeddingGenerator ??= Resolve<IEmbeddingGenerator>(sp, key) ?? Resolve<IEmbeddingGenerator<string, Embedding<float>>>(sp, key);
            var factory = storeFactory?.Invoke(sp) ?? Resolve<IAdaptiveStoreFactory>(sp, key)
                ?? throw new InvalidOperationException("No IAdaptiveStoreFactory: pass one to AddAdaptiveVectorStore or register one (InMemoryAdaptiveStoreFactory, PgvectorAdaptiveStoreFactory).");
            return new AdaptiveVectorStore(factory, options);
        }, lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStore), serviceKey, (sp, key) => sp.GetRequiredKeyedService<AdaptiveVectorStore>(key), lifetime));
        return services;
    }

    /// <summary>
    /// Registers collection <paramref name="name"/> of the registered <see cref="AdaptiveVectorStore"/> as
    /// <see cref="AdaptiveVectorStoreCollection{TKey, TRecord}"/>, <see cref="VectorStoreCollection{TKey, TRecord}"/> and
    /// <see cref="IVectorSearchable{TRecord}"/>.
    /// </summary>
    public static IServiceCollection AddAdaptiveVectorStoreCollection<TKey, TRecord>(
        this IServiceCollection services, string name, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class =>
        services.AddKeyedAdaptiveVectorStoreCollection<TKey, TRecord>(serviceKey: null, name, lifetime);

    /// <summary>
    /// Registers collection <paramref name="name"/> of the <see cref="AdaptiveVectorStore"/> registered under
    /// <paramref name="serviceKey"/>, under the same key, as <see cref="AdaptiveVectorStoreCollection{TKey, TRecord}"/>,
    /// <see cref="VectorStoreCollection{TKey, TRecord}"/> and <see cref="IVectorSearchable{TRecord}"/>.
    /// </summary>
    public static IServiceCollection AddKeyedAdaptiveVectorStoreCollection<TKey, TRecord>(
        this IServiceCollection services, object? serviceKey, string name, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TKey : notnull
        where TRecord : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.Add(new ServiceDescriptor(typeof(AdaptiveVectorStoreCollection<TKey, TRecord>), serviceKey,
            (sp, key) => (AdaptiveVectorStoreCollection<TKey, TRecord>)sp.GetRequiredKeyedService<AdaptiveVectorStore>(key).GetCollection<TKey, TRecord>(name), lifetime));
        services.Add(new ServiceDescriptor(typeof(VectorStoreCollection<TKey, TRecord>), serviceKey,
            (sp, key) => sp.GetRequiredKeyedService<AdaptiveVectorStoreCollection<TKey, TRecord>>(key), lifetime));
        services.Add(new ServiceDescriptor(typeof(IVectorSearchable<TRecord>), serviceKey,
            (sp, key) => sp.GetRequiredKeyedService<AdaptiveVectorStoreCollection<TKey, TRecord>>(key), lifetime));
        return services;
    }

    private static T? Resolve<T>(IServiceProvider services, object? key) where T : class =>
        (key is null ? null : services.GetKeyedService<T>(key)) ?? services.GetService<T>();
}
