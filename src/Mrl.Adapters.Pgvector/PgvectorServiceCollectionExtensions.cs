using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>Registers the pgvector store.</summary>
public static class PgvectorServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="PgvectorAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/>. It uses the
    /// <see cref="NpgsqlDataSource"/> registered in the container when there is one (it must have <c>UseVector()</c> applied),
    /// and otherwise opens its own from <see cref="PgvectorStoreOptions.ConnectionString"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A store with <typeparamref name="TKey"/> keys is already registered without a service key.</exception>
    public static IServiceCollection AddPgvectorAdaptiveStore<TKey>(this IServiceCollection services, EmbeddingLayout layout, Action<PgvectorStoreOptions> configure)
        where TKey : notnull =>
        services.AddKeyedPgvectorAdaptiveStore<TKey>(null, layout, configure);

    /// <summary>
    /// Registers a singleton <see cref="PgvectorAdaptiveStore{TKey}"/> as <see cref="IAdaptiveStore{TKey}"/> under <paramref name="serviceKey"/>.
    /// It uses the <see cref="NpgsqlDataSource"/> registered under the same key, else the one registered without a key, else
    /// opens its own from <see cref="PgvectorStoreOptions.ConnectionString"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A store with <typeparamref name="TKey"/> keys is already registered under that key.</exception>
    public static IServiceCollection AddKeyedPgvectorAdaptiveStore<TKey>(
        this IServiceCollection services, object? serviceKey, EmbeddingLayout layout, Action<PgvectorStoreOptions> configure)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PgvectorStoreOptions();
        configure(options);
        options.Validate();

        return services.AddAdaptiveStore<TKey, PgvectorAdaptiveStore<TKey>>(serviceKey, sp =>
        {
            var logger = sp.GetService<ILogger<PgvectorAdaptiveStore<TKey>>>();
            var dataSource = (serviceKey is null ? null : sp.GetKeyedService<NpgsqlDataSource>(serviceKey)) ?? sp.GetService<NpgsqlDataSource>();
            return dataSource is not null
                ? new PgvectorAdaptiveStore<TKey>(dataSource, layout, options, logger)
                : new PgvectorAdaptiveStore<TKey>(layout, options, logger);
        });
    }
}
