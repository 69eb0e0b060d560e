using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qdrant.Client;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Collections as Qdrant collections of one server: collection <c>name</c> is Qdrant collection <c>name</c>, with the
/// prefix and full named vectors of <see cref="QdrantAdaptiveStore{TKey}"/>, created on
/// <see cref="IAdaptiveStore{TKey}.EnsureSchemaAsync"/>. Every collection's options start from the defaults, pass through
/// the <c>configure</c> callback (payload indexes, HNSW, cluster settings), and get their collection name and layout last.
/// </summary>
public sealed class QdrantAdaptiveStoreFactory : IAdaptiveStoreFactory
{
    private readonly QdrantClient _client;
    private readonly Action<string, QdrantStoreOptions>? _configure;
    private readonly ILoggerFactory _loggerFactory;
    private readonly QdrantCalls _calls;

    /// <summary>Creates a factory that works through <paramref name="client"/>, which it does not dispose.</summary>
    /// <param name="client">The Qdrant client.</param>
    /// <param name="configure">Sets the options of a collection (its name is the first argument; "" for the server-wide calls), or null for the defaults.</param>
    /// <param name="loggerFactory">For the stores' call logs (never the API key).</param>
    public QdrantAdaptiveStoreFactory(QdrantClient client, Action<string, QdrantStoreOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _configure = configure;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        var server = new QdrantStoreOptions();
        configure?.Invoke("", server);
        _calls = new QdrantCalls("(server)", server.RequestTimeout, server.RetryAttempts, server.ApiKey, _loggerFactory.CreateLogger<QdrantAdaptiveStoreFactory>());
    }

    /// <inheritdoc />
    public string SystemName => QdrantAdaptiveStore<long>.SystemName;

    /// <inheritdoc />
    public IAdaptiveStore<TKey> GetStore<TKey>(string name, EmbeddingLayout layout) where TKey : notnull
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(layout);
        var options = new QdrantStoreOptions();
        _configure?.Invoke(name, options);
        options.Collection = name;
        options.Layout = layout;
        return new QdrantAdaptiveStore<TKey>(_client, options, _loggerFactory.CreateLogger<QdrantAdaptiveStore<TKey>>());
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var names = await _calls.RunAsync("ListCollections", ct => _client.ListCollectionsAsync(ct), cancellationToken).ConfigureAwait(false);
        foreach (var name in names)
        {
            yield return name;
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="name"/> cannot be a Qdrant collection name (see <see cref="QdrantStoreOptions.Collection"/>).</exception>
    public Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        QdrantNames.ThrowIfInvalidCollectionName(name, nameof(name));
        return _calls.RunAsync("CollectionExists", ct => _client.CollectionExistsAsync(name, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="name"/> cannot be a Qdrant collection name (see <see cref="QdrantStoreOptions.Collection"/>).</exception>
    public async Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        QdrantNames.ThrowIfInvalidCollectionName(name, nameof(name));
        try
        {
            await _calls.RunAsync("DeleteCollection", async ct =>
            {
                try
                {
                    await _client.DeleteCollectionAsync(name, cancellationToken: ct).ConfigureAwait(false);
                }
                catch (global::Qdrant.Client.QdrantException)
                {
                    // The server answered false: there was no such collection, and deleting is idempotent.
                }
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (QdrantException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // Already gone: deleting is idempotent.
        }
    }
}
