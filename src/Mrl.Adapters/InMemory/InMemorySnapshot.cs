using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Mrl.Adapters.InMemory;

/// <summary>
/// Saves an in-memory store to a stream and loads it back, so that the embedded store can outlive its process.
/// </summary>
/// <remarks>
/// Layout, little-endian: the magic <c>MRLS</c>, format version (int32, 1), full and prefix dimensions (int32 each),
/// metric (int32), key kind (int32: 0 long, 1 Guid, 2 string), record count (int64); then per record the key (8 bytes,
/// 16 bytes, or a length-prefixed UTF-8 string), the full vector (D float32), and the payload as length-prefixed UTF-8
/// JSON (length -1 when absent). Prefixes are not stored: they are recomputed on load. A store with a projected key
/// (<see cref="PrefixKind.Projection"/>) writes format version 2, which adds after the metric the projection's version
/// (int32) and its <c>p × D</c> matrix (float32, row-major), so that the loaded store computes the same keys.
/// Metadata, when given, follows the last record: the magic <c>MRLM</c>, a length (int32) and a UTF-8 JSON object of
/// strings. It comes last so that a reader that predates it stops after the records and never sees it.
/// </remarks>
public static class InMemorySnapshot
{
    private const int Version = 1;
    private const int ProjectionVersion = 2;
    private static readonly byte[] Magic = "MRLS"u8.ToArray();
    private static readonly byte[] MetadataMagic = "MRLM"u8.ToArray();
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    /// <summary>Writes every record of <paramref name="store"/> to <paramref name="stream"/>.</summary>
    public static Task SaveAsync<TKey>(InMemoryAdaptiveStore<TKey> store, Stream stream, CancellationToken cancellationToken = default) where TKey : notnull =>
        SaveAsync(store, stream, metadata: null, cancellationToken);

    /// <summary>
    /// Writes every record of <paramref name="store"/> to <paramref name="stream"/>, followed by <paramref name="metadata"/>
    /// (for example what made the vectors), which <see cref="LoadWithMetadataAsync{TKey}"/> gives back.
    /// </summary>
    public static Task SaveAsync<TKey>(
        InMemoryAdaptiveStore<TKey> store, Stream stream, IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken = default) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(stream);
        var records = store.Snapshot();
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        var projection = store.Layout.Projection;
        writer.Write(projection is null ? Version : ProjectionVersion);
        writer.Write(store.Layout.FullDimensions);
        writer.Write(store.Layout.PrefixDimensions);
        writer.Write((int)store.Layout.Metric);
        if (projection is not null)
        {
            writer.Write(projection.Version);
            writer.Write(MemoryMarshal.AsBytes(projection.Matrix));
        }

        writer.Write(KeyKind<TKey>());
        writer.Write((long)records.Count);
        foreach (var record in records)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (record.Key)
            {
                case long l:
                    writer.Write(l);
                    break;
                case Guid g:
                    writer.Write(g.ToByteArray());
                    break;
                case string s:
                    writer.Write(s);
                    break;
            }

            writer.Write(MemoryMarshal.AsBytes(record.Vector.Span));
            if (record.Payload is { } payload)
            {
                var json = Encoding.UTF8.GetBytes(payload.GetRawText());
                writer.Write(json.Length);
                writer.Write(json);
            }
            else
            {
                writer.Write(-1);
            }
        }

        if (metadata is { Count: > 0 })
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(metadata);
            writer.Write(MetadataMagic);
            writer.Write(json.Length);
            writer.Write(json);
        }

        return Task.CompletedTask;
    }

    /// <summary>Reads a snapshot into a new store.</summary>
    /// <exception cref="InvalidDataException">
    /// The stream is not a snapshot of this format, holds another key type, or is truncated or corrupt; the message names
    /// the file when the stream is a <see cref="FileStream"/>.
    /// </exception>
    public static async Task<InMemoryAdaptiveStore<TKey>> LoadAsync<TKey>(Stream stream, CancellationToken cancellationToken = default) where TKey : notnull =>
        (await LoadWithMetadataAsync<TKey>(stream, cancellationToken).ConfigureAwait(false)).Store;

    /// <summary>Reads a snapshot into a new store, with the metadata saved after its records (empty for a snapshot saved without).</summary>
    /// <exception cref="InvalidDataException">
    /// The stream is not a snapshot of this format, holds another key type, or is truncated or corrupt; the message names
    /// the file when the stream is a <see cref="FileStream"/>.
    /// </exception>
    public static async Task<(InMemoryAdaptiveStore<TKey> Store, IReadOnlyDictionary<string, string> Metadata)> LoadWithMetadataAsync<TKey>(
        Stream stream, CancellationToken cancellationToken = default) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(stream);
        var source = stream is FileStream file ? $"The snapshot '{file.Name}'" : "The snapshot";
        try
        {
            return await ReadAsync<TKey>(stream, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or ArgumentException or DecoderFallbackException or OverflowException)
        {
            // A record that ends early, or bytes that decode to an invalid layout, key, vector or payload: the file was cut
            // short or changed since it was written.
            throw new InvalidDataException($"{source} is truncated or corrupt: {e.Message}", e);
        }
    }

    private static async Task<(InMemoryAdaptiveStore<TKey> Store, IReadOnlyDictionary<string, string> Metadata)> ReadAsync<TKey>(Stream stream, CancellationToken cancellationToken) where TKey : notnull
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        var format = reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) ? reader.ReadInt32() : 0;
        if (format is not (Version or ProjectionVersion))
        {
            throw new InvalidDataException("Not an Mrl.Adapters in-memory snapshot (version 1 or 2).");
        }

        var layout = new EmbeddingLayout(reader.ReadInt32(), reader.ReadInt32(), (DistanceMetric)reader.ReadInt32());
        if (format == ProjectionVersion)
        {
            var projectionVersion = reader.ReadInt32();
            var matrix = new float[layout.PrefixDimensions * layout.FullDimensions];
            reader.ReadExactly(MemoryMarshal.AsBytes(matrix.AsSpan()));
            layout = new EmbeddingLayout(new PrefixProjection(layout.PrefixDimensions, layout.FullDimensions, matrix, projectionVersion), layout.Metric);
        }

        var kind = reader.ReadInt32();
        if (kind != KeyKind<TKey>())
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The snapshot holds key kind {kind}; {typeof(TKey).Name} keys were asked for."));
        }

        var count = reader.ReadInt64();
        var store = new InMemoryAdaptiveStore<TKey>(layout);
        var batch = new List<VectorRecord<TKey>>(1024);
        for (long i = 0; i < count; i++)
        {
            object key = kind switch
            {
                0 => reader.ReadInt64(),
                1 => new Guid(reader.ReadBytes(16)),
                _ => reader.ReadString(),
            };
            if (stream.CanSeek && layout.FullDimensions * 4L > stream.Length - stream.Position)
            {
                throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture, $"record {i} of {count} ends before its {layout.FullDimensions}-dimension vector."));
            }

            var vector = new float[layout.FullDimensions];
            reader.ReadExactly(MemoryMarshal.AsBytes(vector.AsSpan()));
            var length = reader.ReadInt32();
            if (stream.CanSeek && length > stream.Length - stream.Position)
            {
                // Checked before ReadBytes, which allocates the length it is given.
                throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture, $"record {i} has a payload of {length} bytes, more than the rest of the file."));
            }

            JsonElement? payload = length < 0 ? null : ParsePayload(reader.ReadBytes(length), length);
            batch.Add(new VectorRecord<TKey>((TKey)key, vector, payload));
            if (batch.Count == batch.Capacity)
            {
                await store.UpsertAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
            }
        }

        await store.UpsertAsync(batch, cancellationToken).ConfigureAwait(false);
        return (store, ReadMetadata(reader));
    }

    private static IReadOnlyDictionary<string, string> ReadMetadata(BinaryReader reader)
    {
        var magic = reader.ReadBytes(MetadataMagic.Length);
        if (magic.Length == 0)
        {
            return NoMetadata;
        }

        if (!magic.AsSpan().SequenceEqual(MetadataMagic))
        {
            throw new InvalidDataException("The snapshot has bytes after its last record that are not metadata.");
        }

        var length = reader.ReadInt32();
        var stream = reader.BaseStream;
        if (length < 0 || (stream.CanSeek && length > stream.Length - stream.Position))
        {
            throw new EndOfStreamException(string.Create(CultureInfo.InvariantCulture, $"the metadata of {length} bytes is longer than the rest of the file."));
        }

        var json = reader.ReadBytes(length);
        if (json.Length < length)
        {
            throw new EndOfStreamException("The metadata ends early.");
        }

        return JsonSerializer.Deserialize<Dictionary<string, string>>(json)
            ?? throw new InvalidDataException("The snapshot's metadata is null instead of a JSON object.");
    }

    private static JsonElement ParsePayload(byte[] json, int length)
    {
        if (json.Length < length)
        {
            throw new EndOfStreamException("The last payload ends early.");
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static int KeyKind<TKey>() =>
        typeof(TKey) == typeof(long) ? 0 : typeof(TKey) == typeof(Guid) ? 1 : typeof(TKey) == typeof(string) ? 2
            : throw new NotSupportedException($"Snapshots hold long, Guid or string keys, not {typeof(TKey).Name}.");
}

