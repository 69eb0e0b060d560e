using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Collections as Qdrant collections of one server: collection <c>name</c> is Qdrant collection <c>name</c>, with the
/// prefix and full named vectors of <see cref="QdrantAdaptiveStore{TKey}"/>, created on
/// <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/>. Every collection's options start from the defaults, pass through
/// the <c>configure</c> callback (endpoint, API key, payload indexes, HNSW), and get their collection name and layout last.
/// </summary>
public sealed class QdrantAdaptiveStoreFactory : IAdaptiveStoreFactory
{
    private readonly HttpClient _httpClient;
    private readonly Action<string, QdrantStoreOptions> _configure;
    private readonly ILoggerFactory _loggerFactory;
    private readonly QdrantTransport _transport;

    /// <summary>Creates a factory that sends through <paramref name="httpClient"/>, which it does not dispose.</summary>
    /// <param name="httpClient">The client to send with.</param>
    /// <param name="configure">Sets the options of a collection (its name is the first argument): at least <see cref="QdrantStoreOptions.Endpoint"/>.</param>
    /// <param name="loggerFactory">For the stores' request logs (never the API key).</param>
    /// <exception cref="ArgumentException">The configured options have no endpoint.</exception>
    public QdrantAdaptiveStoreFactory(HttpClient httpClient, Action<string, QdrantStoreOptions> configure, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(configure);
        _httpClient = httpClient;
        _configure = configure;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        var server = new QdrantStoreOptions();
        configure("", server);
        var endpoint = server.Endpoint ?? throw new ArgumentException("The configure callback sets no QdrantStoreOptions.Endpoint.", nameof(configure));
        _transport = new QdrantTransport(() => httpClient, endpoint, server.ApiKey, server.RequestTimeout, server.MaxResponseBytes, _loggerFactory.CreateLogger<QdrantAdaptiveStoreFactory>());
    }

    /// <inheritdoc />
    public string SystemName => QdrantAdaptiveStore<long>.SystemName;

    /// <inheritdoc />
    public IAdaptiveStore<TKey> GetStore<TKey>(string name, EmbeddingLayout layout) where TKey : notnull
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(layout);
        var options = new QdrantStoreOptions();
        _configure(name, options);
        options.Collection = name;
        options.Layout = layout;
        return new QdrantAdaptiveStore<TKey>(_httpClient, options, _loggerFactory.CreateLogger<QdrantAdaptiveStore<TKey>>());
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var result = await _transport.SendForResultAsync(QdrantRequests.ListCollections(), cancellationToken).ConfigureAwait(false);
        foreach (var name in QdrantResponses.CollectionNames(result))
        {
            yield return name;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="name"/> cannot be a Qdrant collection name (see <see cref="QdrantStoreOptions.Collection"/>).</exception>
    public async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        QdrantNames.ThrowIfInvalidCollectionName(name, nameof(name));
        var result = await _transport.SendForResultAsync(QdrantRequests.CollectionExists(name), cancellationToken).ConfigureAwait(false);
        return QdrantResponses.Exists(result);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="name"/> cannot be a Qdrant collection name (see <see cref="QdrantStoreOptions.Collection"/>).</exception>
    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        QdrantNames.ThrowIfInvalidCollectionName(name, nameof(name));
        try
        {
            await _transport.SendForResultAsync(QdrantRequests.DeleteCollection(name), cancellationToken).ConfigureAwait(false);
        }
        catch (QdrantException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone: deleting is idempotent.
        }
    }
}
