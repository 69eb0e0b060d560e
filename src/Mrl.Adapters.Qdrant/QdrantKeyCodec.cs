using System.Globalization;
using Google.Protobuf.Collections;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant;

/// <summary>Maps one key type to Qdrant point ids and back, as <see cref="QdrantKeyMapping"/> documents.</summary>
internal abstract class QdrantKeyCodec<TKey> where TKey : notnull
{
    /// <summary>Whether records carry their key in <see cref="QdrantKeyMapping.KeyPayloadField"/>.</summary>
    public virtual bool StoresKeyInPayload => false;

    /// <exception cref="ArgumentException">The key cannot be a Qdrant point id.</exception>
    public abstract QdrantPointId ToPointId(TKey key);

    /// <exception cref="QdrantException">The point was not written with this key type.</exception>
    public abstract TKey FromPoint(QdrantPointId id, MapField<string, Proto.Value> payload);

    /// <summary>Whether Qdrant's point id order (a scroll's order) is the keys' own order: true for integer keys.</summary>
    public virtual bool IdOrderIsKeyOrder => false;

    /// <summary>The key as the payload field holds it, for codecs that store it there.</summary>
    public virtual string? PayloadKey(TKey key) => null;
}

/// <summary>Picks the codec for a key type.</summary>
internal static class QdrantKeyCodec
{
    /// <exception cref="NotSupportedException">The key type is not long, ulong, Guid or string.</exception>
    public static QdrantKeyCodec<TKey> For<TKey>() where TKey : notnull
    {
        object codec = typeof(TKey) switch
        {
            var t when t == typeof(long) => new Int64Codec(),
            var t when t == typeof(ulong) => new UInt64Codec(),
            var t when t == typeof(Guid) => new GuidCodec(),
            var t when t == typeof(string) => new StringCodec(),
            var t => throw new NotSupportedException(
                $"Qdrant point ids are unsigned integers or UUIDs; the Qdrant store supports keys of type long (non-negative), ulong, Guid and string, not {t.Name}."),
        };
        return (QdrantKeyCodec<TKey>)codec;
    }

    private sealed class Int64Codec : QdrantKeyCodec<long>
    {
        public override bool IdOrderIsKeyOrder => true;

        public override QdrantPointId ToPointId(long key)
        {
            if (key < 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture,
                        $"Key {key} is negative: Qdrant point ids are unsigned integers or UUIDs. Use non-negative long keys, Guid keys or string keys."),
                    nameof(key));
            }

            return QdrantPointId.FromNumber((ulong)key);
        }

        public override long FromPoint(QdrantPointId id, MapField<string, Proto.Value> payload)
        {
            if (id.IsUuid || id.Number > long.MaxValue)
            {
                throw new QdrantException($"Point {id} cannot be a long key: the collection holds points that a store with long keys did not write.");
            }

            return (long)id.Number;
        }
    }

    private sealed class UInt64Codec : QdrantKeyCodec<ulong>
    {
        public override bool IdOrderIsKeyOrder => true;

        public override QdrantPointId ToPointId(ulong key) => QdrantPointId.FromNumber(key);

        public override ulong FromPoint(QdrantPointId id, MapField<string, Proto.Value> payload) =>
            id.IsUuid ? throw new QdrantException($"Point {id} is a UUID, not an unsigned integer key.") : id.Number;
    }

    private sealed class GuidCodec : QdrantKeyCodec<Guid>
    {
        public override QdrantPointId ToPointId(Guid key) => QdrantPointId.FromUuid(key);

        public override Guid FromPoint(QdrantPointId id, MapField<string, Proto.Value> payload) =>
            id.IsUuid ? id.Uuid : throw new QdrantException($"Point {id} is a number, not a Guid key.");
    }

    private sealed class StringCodec : QdrantKeyCodec<string>
    {
        public override bool StoresKeyInPayload => true;

        public override QdrantPointId ToPointId(string key)
        {
            ArgumentNullException.ThrowIfNull(key);
            if (UnicodeText.IndexOfLoneSurrogate(key) is var lone and >= 0)
            {
                // UTF-8 would replace it with U+FFFD, giving other keys the same point id, and protobuf strings (UTF-8) cannot hold it in _mrl_key.
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture,
                        $"Key '{key}' is not valid Unicode (a lone surrogate at index {lone}), so Qdrant cannot hold it: use valid UTF-16 string keys."),
                    nameof(key));
            }

            return QdrantPointId.FromUuid(QdrantKeyMapping.StringKeyToUuid(key));
        }

        public override string FromPoint(QdrantPointId id, MapField<string, Proto.Value> payload)
        {
            if (QdrantProtos.StringField(payload, QdrantKeyMapping.KeyPayloadField) is { } key)
            {
                return key;
            }

            throw new QdrantException(
                $"Point {id} has no string '{QdrantKeyMapping.KeyPayloadField}' payload field, so its string key cannot be recovered: " +
                "it was not written by a store with string keys.");
        }

        public override string? PayloadKey(string key) => key;
    }
}
