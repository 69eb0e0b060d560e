using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// How record keys become Qdrant point ids. Qdrant accepts unsigned 64-bit integers and UUIDs:
/// <list type="bullet">
/// <item><see cref="long"/> keys are used as they are and must not be negative; <see cref="ulong"/> keys as they are.</item>
/// <item><see cref="Guid"/> keys are used as they are.</item>
/// <item>
/// <see cref="string"/> keys become a name-based UUID, version 5 of RFC 9562: SHA-1 over the 16 bytes of
/// <see cref="StringKeyNamespace"/> followed by the key's UTF-8 bytes. The same key always gives the same point id,
/// on every machine and in every version of this library. The original key is stored in the payload field
/// <see cref="KeyPayloadField"/>, from which reads recover it; the store removes that field from the payloads it returns.
/// </item>
/// </list>
/// </summary>
public static class QdrantKeyMapping
{
    /// <summary>The payload field that holds the original key of a record with a string key.</summary>
    public const string KeyPayloadField = "_mrl_key";

    /// <summary>
    /// The payload field that holds a record's write stamp: a random non-negative integer the store writes with every
    /// upsert, which the full-vector cache uses as the record's version (docs/qdrant.md says why not Qdrant's own point
    /// version). Reserved for every key type; the store removes it from the payloads it returns.
    /// </summary>
    public const string VersionPayloadField = "_mrl_version";

    /// <summary>The namespace UUID of the name-based (version 5) UUIDs made from string keys. Fixed forever.</summary>
    public static readonly Guid StringKeyNamespace = new("db3abd59-76cd-41ee-bcd9-a0cbd6f197d7");

    /// <summary>The point id a string key is stored under: a version 5 UUID of the key in <see cref="StringKeyNamespace"/>.</summary>
    public static Guid StringKeyToUuid(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return NameBasedUuid(StringKeyNamespace, key);
    }

    /// <summary>A version 5 (SHA-1, name-based) UUID of <paramref name="name"/> in <paramref name="namespaceId"/>, as RFC 9562 defines it.</summary>
    internal static Guid NameBasedUuid(Guid namespaceId, string name)
    {
        var nameBytes = Encoding.UTF8.GetByteCount(name);
        var length = 16 + nameBytes;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var input = rented.AsSpan(0, length);
            if (!namespaceId.TryWriteBytes(input[..16], bigEndian: true, out _))
            {
                throw new InvalidOperationException("Could not write the namespace UUID.");
            }

            Encoding.UTF8.GetBytes(name, input[16..]);
            Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
#pragma warning disable CA5350 // RFC 9562 defines version 5 UUIDs with SHA-1; this is an identifier, not a security use.
            SHA1.HashData(input, hash);
#pragma warning restore CA5350
            hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
            hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
            return new Guid(hash[..16], bigEndian: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
