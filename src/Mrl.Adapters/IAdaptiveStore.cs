namespace Mrl.Adapters;

/// <summary>
/// A vector store that holds full Matryoshka embeddings, indexes their prefix, and searches in two passes:
/// an approximate search on the prefix, then an exact rescore of the candidates on the full vectors.
/// </summary>
/// <typeparam name="TKey">The record key type.</typeparam>
public interface IAdaptiveStore<TKey> where TKey : notnull
{
    /// <summary>The dimensions and metric this store was configured with.</summary>
    EmbeddingLayout Layout { get; }

    /// <summary>Creates the table, collection or index the store needs, or checks an existing one and explains any mismatch.</summary>
    Task EnsureSchemaAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces records. Every record is validated first; when one is invalid nothing is written.</summary>
    /// <exception cref="ArgumentException">A record has a wrong-length, non-finite or zero vector, or a key appears twice.</exception>
    Task UpsertAsync(IReadOnlyList<VectorRecord<TKey>> records, CancellationToken cancellationToken = default);

    /// <summary>Deletes the records with these keys and returns how many existed.</summary>
    Task<int> DeleteAsync(IReadOnlyList<TKey> keys, CancellationToken cancellationToken = default);

    /// <summary>Returns the record with this key, or null.</summary>
    Task<VectorRecord<TKey>?> GetAsync(TKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists up to <paramref name="top"/> records that match <paramref name="filter"/> (all records when null), in the
    /// order and from the offset <paramref name="options"/> give: a scan of the payloads, with no vector involved.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="top"/> is less than 1, or the skip is negative.</exception>
    /// <exception cref="NotSupportedException">The store has no filtered scan.</exception>
    Task<IReadOnlyList<VectorRecord<TKey>>> GetAsync(Filter? filter, int top, RecordQueryOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} does not implement the filtered scan (GetAsync with a filter) yet.");

    /// <summary>Counts the records that match <paramref name="filter"/> (all records when null).</summary>
    Task<long> CountAsync(Filter? filter = null, CancellationToken cancellationToken = default);

    /// <summary>Searches with a full-dimension query vector.</summary>
    /// <exception cref="ArgumentException">The query has the wrong length, a non-finite value, or is zero for a normalizing metric.</exception>
    Task<SearchResult<TKey>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken = default);
}
