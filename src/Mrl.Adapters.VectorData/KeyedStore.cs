using System.Globalization;
using System.Text.Json;

namespace Mrl.Adapters.VectorData;

/// <summary>A stored record as the collections see it, with the key boxed.</summary>
internal readonly record struct StoredRecord(object Key, ReadOnlyMemory<float> Vector, JsonElement? Payload);

/// <summary>A search hit as the collections see it, with the key boxed.</summary>
internal readonly record struct StoredHit(object Key, float Score, JsonElement? Payload);

/// <summary>
/// An <see cref="IAdaptiveStore{TKey}"/> behind boxed keys, so that one collection implementation serves typed records
/// (<c>TKey</c> known) and dynamic ones (<c>object</c> keys whose type the definition gives).
/// </summary>
internal abstract class KeyedStore
{
    public abstract object Store { get; }

    public abstract Task EnsureSchemaAsync(CancellationToken cancellationToken);

    public abstract Task UpsertAsync(IReadOnlyList<StoredRecord> records, CancellationToken cancellationToken);

    public abstract Task<int> DeleteAsync(IReadOnlyList<object> keys, CancellationToken cancellationToken);

    public abstract Task<StoredRecord?> GetAsync(object key, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<StoredRecord>> QueryAsync(Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken);

    public abstract Task<IReadOnlyList<StoredHit>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken);

    /// <remarks>
    /// Int keys are stored as long keys (every store takes long; pgvector's key column is bigint) and read back as int.
    /// </remarks>
    /// <exception cref="NotSupportedException">The key type is not one the adaptive collections support.</exception>
    public static KeyedStore Create(IAdaptiveStoreFactory factory, string name, Type keyType, EmbeddingLayout layout) =>
        keyType == typeof(string) ? new Typed<string>(factory.GetStore<string>(name, layout), null)
        : keyType == typeof(Guid) ? new Typed<Guid>(factory.GetStore<Guid>(name, layout), null)
        : keyType == typeof(long) ? new Typed<long>(factory.GetStore<long>(name, layout), null)
        : keyType == typeof(int) ? new Typed<long>(factory.GetStore<long>(name, layout), static key => checked((int)(long)key))
        : throw new NotSupportedException($"Key type {keyType.Name} is not supported; use string, Guid, long or int.");

    private sealed class Typed<TKey>(IAdaptiveStore<TKey> store, Func<object, object>? toModelKey) : KeyedStore where TKey : notnull
    {
        public override object Store => store;

        public override Task EnsureSchemaAsync(CancellationToken cancellationToken) => store.EnsureSchemaAsync(cancellationToken);

        public override Task UpsertAsync(IReadOnlyList<StoredRecord> records, CancellationToken cancellationToken)
        {
            var typed = new VectorRecord<TKey>[records.Count];
            for (var i = 0; i < typed.Length; i++)
            {
                typed[i] = new VectorRecord<TKey>(ToKey(records[i].Key), records[i].Vector, records[i].Payload);
            }

            return store.UpsertAsync(typed, cancellationToken);
        }

        public override Task<int> DeleteAsync(IReadOnlyList<object> keys, CancellationToken cancellationToken) =>
            store.DeleteAsync(keys.Select(ToKey).ToArray(), cancellationToken);

        public override async Task<StoredRecord?> GetAsync(object key, CancellationToken cancellationToken) =>
            await store.GetAsync(ToKey(key), cancellationToken).ConfigureAwait(false) is { } record
                ? new StoredRecord(ModelKey(record.Key), record.Vector, record.Payload)
                : null;

        public override async Task<IReadOnlyList<StoredRecord>> QueryAsync(Filter? filter, int top, RecordQueryOptions options, CancellationToken cancellationToken)
        {
            var records = await store.GetAsync(filter, top, options, cancellationToken).ConfigureAwait(false);
            return records.Select(r => new StoredRecord(ModelKey(r.Key), r.Vector, r.Payload)).ToArray();
        }

        public override async Task<IReadOnlyList<StoredHit>> SearchAsync(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken)
        {
            var result = await store.SearchAsync(query, options, cancellationToken).ConfigureAwait(false);
            return result.Hits.Select(h => new StoredHit(ModelKey(h.Key), h.Score, h.Payload)).ToArray();
        }

        private object ModelKey(TKey key) => toModelKey is null ? key : toModelKey(key);

        private static TKey ToKey(object key)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (key is TKey typed)
            {
                return typed;
            }

            try
            {
                return (TKey)Convert.ChangeType(key, typeof(TKey), CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
            {
                throw new ArgumentException($"Key {key} is a {key.GetType().Name}; this collection's keys are {typeof(TKey).Name}.", nameof(key), e);
            }
        }
    }
}
