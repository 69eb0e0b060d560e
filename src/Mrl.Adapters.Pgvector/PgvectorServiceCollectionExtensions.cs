using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
    public static IServiceCollection AddPgvectorAdaptiveStore<TKey>(this IServiceCollection services, EmbeddingLayout layout, Action<PgvectorStoreOptions> configure)
        where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new PgvectorStoreOptions();
        configure(options);
        options.Validate();

        services.TryAddSingleton(sp =>
        {
            var logger = sp.GetService<ILogger<PgvectorAdaptiveStore<TKey>>>();
            return sp.GetService<NpgsqlDataSource>() is { } dataSource
                ? new PgvectorAdaptiveStore<TKey>(dataSource, layout, options, logger)
                : new PgvectorAdaptiveStore<TKey>(layout, options, logger);
        });
        services.TryAddSingleton<IAdaptiveStore<TKey>>(sp => sp.GetRequiredService<PgvectorAdaptiveStore<TKey>>());
        return services;
    }
}
