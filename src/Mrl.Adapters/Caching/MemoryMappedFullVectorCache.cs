using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;

namespace Mrl.Adapters.Caching;

/// <summary>
/// A full-vector cache in a memory-mapped file, for corpora larger than the memory you want to give the cache, and
/// for a warm cache that survives a restart. The file is only a cache: it can be deleted and rebuilt from the database
/// at any time, and it is discarded on open when it was not closed cleanly or belongs to another table.
/// </summary>
/// <remarks>
/// File layout, little-endian. A 64-byte header: magic <c>MRLC</c>, format version (int32, 1), dimensions (int32),
/// storage (int32: 0 float32, 1 float16), capacity (int64), key kind (int32: 0 long, 1 Guid, 2 string), clean flag
/// (int32: 1 after a clean close), and the SHA-256 of the table identity (32 bytes). Then <c>capacity</c> slots of 32
/// bytes: the key (16 bytes: a long in the first 8, a Guid's bytes, or the first 16 bytes of the SHA-256 of a string
/// key's UTF-8), the row version (int64), flags (int32: 1 = in use) and 4 bytes of padding. Then <c>capacity</c>
/// vectors of <c>dimensions</c> values. Slots are split into 16 stripes by a hash of the key; each stripe evicts with
/// CLOCK, whose reference bits live in memory only.
/// </remarks>
public sealed unsafe class MemoryMappedFullVectorCache<TKey> : IFullVectorCache<TKey>, IDisposable where TKey : notnull
{
    private const int HeaderBytes = 64;
    private const int SlotBytes = 32;
    private const int Stripes = 16;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly int MagicValue = BinaryPrimitives.ReadInt32LittleEndian("MRLC"u8);

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;
    private readonly int _elementBytes;
    private readonly Stripe[] _stripes = new Stripe[Stripes];
    private bool _disposed;

    /// <summary>
    /// Opens or creates the cache file. <paramref name="tableIdentity"/> names what the cache mirrors (e.g. a table's OID
    /// and relfilenode): a file written for another identity, another layout, or not closed cleanly starts empty.
    /// </summary>
    public MemoryMappedFullVectorCache(string path, FullVectorCacheOptions options, string tableIdentity)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tableIdentity);
        Options = options;
        _elementBytes = options.Storage == CacheStorage.HalfPrecision ? 2 : 4;
        Capacity = Math.Max(Stripes, options.Capacity);
        var length = HeaderBytes + (Capacity * SlotBytes) + (Capacity * options.Dimensions * _elementBytes);
        var identity = SHA256.HashData(Encoding.UTF8.GetBytes(tableIdentity));

        // The file holds the corpus's vectors: it is created for its owner only, and never through a
        // symbolic link, which would overwrite whatever the link points at.
        if (new FileInfo(path).LinkTarget is { } target)
        {
            throw new ArgumentException($"The cache path '{path}' is a symbolic link (to '{target}'); give the path of a regular file.", nameof(path));
        }

        var reuse = File.Exists(path) && HeaderMatches(path, options, Capacity, identity, length);
        if (!reuse)
        {
            File.Delete(path);
        }

        // Shared for reading, as the mapping by path was: a copy of a cache in use is a cache left by a crash.
        var open = new FileStreamOptions { Mode = reuse ? FileMode.Open : FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.Read };
        if (!reuse && !OperatingSystem.IsWindows())
        {
            open.UnixCreateMode = OwnerOnly;
        }

        var stream = new FileStream(path, open);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(stream.SafeFileHandle, OwnerOnly);
            }

            stream.SetLength(length);
            _file = MemoryMappedFile.CreateFromFile(stream, null, length, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + _view.PointerOffset;

        if (!reuse)
        {
            new Span<byte>(_base, HeaderBytes + SlotBytes).Clear();
            for (long slot = 0; slot < Capacity; slot++)
            {
                SlotFlags(slot) = 0;
            }

            var header = new Span<byte>(_base, HeaderBytes);
            BinaryPrimitives.WriteInt32LittleEndian(header, MagicValue);
            BinaryPrimitives.WriteInt32LittleEndian(header[4..], 1);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], options.Dimensions);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], (int)options.Storage);
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], Capacity);
            BinaryPrimitives.WriteInt32LittleEndian(header[24..], KeyKind);
            identity.CopyTo(header[32..]);
        }

        // Dirty until Dispose: a file left by a crash may hold torn vectors and is discarded on the next open.
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(_base + 28, 4), 0);
        _view.Flush();

        var perStripe = Capacity / Stripes;
        for (var s = 0; s < Stripes; s++)
        {
            _stripes[s] = new Stripe(this, s * perStripe, s == Stripes - 1 ? Capacity - (s * perStripe) : perStripe);
        }

        for (long slot = 0; slot < Capacity; slot++)
        {
            if (SlotFlags(slot) != 1)
            {
                continue;
            }

            // A clean file can still be damaged or edited: an entry outside its key's stripe, or a second entry for a key,
            // is dropped rather than trusted, since a stripe indexes only its own slots.
            var key = SlotKey(slot);
            if (_stripes[StripeIndex(key)].Adopt(key, slot))
            {
                LoadedEntries++;
            }
            else
            {
                SlotFlags(slot) = 0;
                DiscardedEntries++;
            }
        }

        WasReset = !reuse;
    }

    /// <summary>The budget and format.</summary>
    public FullVectorCacheOptions Options { get; }

    /// <summary>How many vectors the file holds at most.</summary>
    public long Capacity { get; }

    /// <summary>Whether opening started from an empty file (new, unclean, another format, or another table).</summary>
    public bool WasReset { get; }

    /// <summary>Entries found in the file when it was opened.</summary>
    public long LoadedEntries { get; }

    /// <summary>Entries in the file that could not be valid (in another key's place, or repeated), dropped on open.</summary>
    public long DiscardedEntries { get; }

    /// <inheritdoc />
    public int Dimensions => Options.Dimensions;

    /// <inheritdoc />
    public FullVectorCacheStatistics Statistics =>
        CacheStripe.Total(_stripes, HeaderBytes + (Capacity * (SlotBytes + ((long)Dimensions * _elementBytes))), bytesPerEntry: 0);

    /// <inheritdoc />
    public CacheLookup TryGet(TKey key, long version, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(destination.Length, Dimensions, nameof(destination));
        ObjectDisposedException.ThrowIf(_disposed, this);
        var packed = Pack(key);
        var stripe = _stripes[StripeIndex(packed)];
        lock (stripe)
        {
            return stripe.TryGet(packed, version, destination);
        }
    }

    /// <inheritdoc />
    public bool Contains(TKey key, long version)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var packed = Pack(key);
        var stripe = _stripes[StripeIndex(packed)];
        lock (stripe)
        {
            return stripe.Contains(packed, version);
        }
    }

    /// <inheritdoc />
    public void Put(TKey key, long version, ReadOnlySpan<float> fullVector)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(fullVector.Length, Dimensions, nameof(fullVector));
        ObjectDisposedException.ThrowIf(_disposed, this);
        var packed = Pack(key);
        var stripe = _stripes[StripeIndex(packed)];
        lock (stripe)
        {
            stripe.Put(packed, version, fullVector);
        }
    }

    /// <inheritdoc />
    public void Clear()
    {
        foreach (var stripe in _stripes)
        {
            lock (stripe)
            {
                stripe.Clear();
            }
        }
    }

    /// <summary>Flushes the file and marks it clean, so that the next open keeps its entries.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _view.Flush();
        BinaryPrimitives.WriteInt32LittleEndian(new Span<byte>(_base + 28, 4), 1);
        _view.Flush();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private static int KeyKind =>
        typeof(TKey) == typeof(long) ? 0 : typeof(TKey) == typeof(Guid) ? 1 : typeof(TKey) == typeof(string) ? 2
            : throw new NotSupportedException($"The memory-mapped cache holds long, Guid or string keys, not {typeof(TKey).Name}.");

    private static UInt128 Pack(TKey key)
    {
        Span<byte> bytes = stackalloc byte[32];
        switch (key)
        {
            case long l:
                bytes.Clear();
                BinaryPrimitives.WriteInt64LittleEndian(bytes, l);
                break;
            case Guid g:
                g.TryWriteBytes(bytes);
                break;
            case string s:
                SHA256.HashData(Encoding.UTF8.GetBytes(s), bytes);
                break;
            default:
                throw new NotSupportedException($"The memory-mapped cache holds long, Guid or string keys, not {key.GetType().Name}.");
        }

        return BinaryPrimitives.ReadUInt128LittleEndian(bytes);
    }

    // A fixed mix, not HashCode: the stripe of a key must be the same in every process that opens the file.
    private static int StripeIndex(UInt128 key)
    {
        var mixed = (ulong)key ^ (ulong)(key >> 64);
        mixed = unchecked((mixed ^ (mixed >> 33)) * 0xFF51AFD7ED558CCDUL);
        return (int)((mixed ^ (mixed >> 33)) % Stripes);
    }

    private static bool HeaderMatches(string path, FullVectorCacheOptions options, long capacity, byte[] identity, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
        if (stream.Length != length)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[HeaderBytes];
        stream.ReadExactly(header);
        return BinaryPrimitives.ReadInt32LittleEndian(header) == MagicValue
               && BinaryPrimitives.ReadInt32LittleEndian(header[4..]) == 1
               && BinaryPrimitives.ReadInt32LittleEndian(header[8..]) == options.Dimensions
               && BinaryPrimitives.ReadInt32LittleEndian(header[12..]) == (int)options.Storage
               && BinaryPrimitives.ReadInt64LittleEndian(header[16..]) == capacity
               && BinaryPrimitives.ReadInt32LittleEndian(header[24..]) == KeyKind
               && BinaryPrimitives.ReadInt32LittleEndian(header[28..]) == 1
               && header[32..].SequenceEqual(identity);
    }

    private byte* Slot(long slot) => _base + HeaderBytes + (slot * SlotBytes);

    private ref int SlotFlags(long slot) => ref *(int*)(Slot(slot) + 24);

    private ref long SlotVersion(long slot) => ref *(long*)(Slot(slot) + 16);

    private UInt128 SlotKey(long slot) => BinaryPrimitives.ReadUInt128LittleEndian(new ReadOnlySpan<byte>(Slot(slot), 16));

    private void WriteSlotKey(long slot, UInt128 key) => BinaryPrimitives.WriteUInt128LittleEndian(new Span<byte>(Slot(slot), 16), key);

    private byte* Vector(long slot) => _base + HeaderBytes + (Capacity * SlotBytes) + (slot * Dimensions * _elementBytes);

    private sealed class Stripe(MemoryMappedFullVectorCache<TKey> cache, long first, long capacity) : CacheStripe
    {
        private readonly Dictionary<UInt128, long> _slots = [];
        private readonly bool[] _referenced = new bool[capacity];
        private long _used;
        private long _hand;

        public override int Count => _slots.Count;

        /// <summary>Takes an entry found in the file; false when the slot is not this stripe's or the key already has one.</summary>
        public bool Adopt(UInt128 key, long slot)
        {
            if (slot < first || slot >= first + capacity || !_slots.TryAdd(key, slot))
            {
                return false;
            }

            _used = Math.Max(_used, slot - first + 1);
            return true;
        }

        public CacheLookup TryGet(UInt128 key, long version, Span<float> destination)
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                Misses++;
                return CacheLookup.Miss;
            }

            if (cache.SlotVersion(slot) != version)
            {
                Stale++;
                return CacheLookup.Stale;
            }

            var d = cache.Dimensions;
            if (cache._elementBytes == 2)
            {
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(cache.Vector(slot), d), destination);
            }
            else
            {
                new ReadOnlySpan<float>(cache.Vector(slot), d).CopyTo(destination);
            }

            _referenced[slot - first] = true;
            Hits++;
            return CacheLookup.Hit;
        }

        public bool Contains(UInt128 key, long version) => _slots.TryGetValue(key, out var slot) && cache.SlotVersion(slot) == version;

        public void Put(UInt128 key, long version, ReadOnlySpan<float> vector)
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                slot = FreeSlot();
                _slots[key] = slot;
                _referenced[slot - first] = false;
            }

            // Invalid while it is rewritten, so that a reader of the file never takes a half-written entry for whole.
            cache.SlotFlags(slot) = 0;
            var d = cache.Dimensions;
            if (cache._elementBytes == 2)
            {
                TensorPrimitives.ConvertToHalf(vector, new Span<Half>(cache.Vector(slot), d));
            }
            else
            {
                vector.CopyTo(new Span<float>(cache.Vector(slot), d));
            }

            cache.WriteSlotKey(slot, key);
            cache.SlotVersion(slot) = version;
            cache.SlotFlags(slot) = 1;
        }

        public void Clear()
        {
            foreach (var slot in _slots.Values)
            {
                cache.SlotFlags(slot) = 0;
            }

            _slots.Clear();
            Array.Clear(_referenced);
            _used = 0;
            _hand = 0;
        }

        private long FreeSlot()
        {
            if (_slots.Count < capacity)
            {
                // Slots are taken in order; after a restart, the ones the file already uses are skipped.
                while (_used < capacity && cache.SlotFlags(first + _used) == 1)
                {
                    _used++;
                }

                if (_used < capacity)
                {
                    return first + _used++;
                }
            }

            while (true)
            {
                var index = _hand;
                _hand = (_hand + 1) % capacity;
                if (_referenced[index])
                {
                    _referenced[index] = false;
                    continue;
                }

                var slot = first + index;
                if (cache.SlotFlags(slot) == 1)
                {
                    _slots.Remove(cache.SlotKey(slot));
                    Evictions++;
                }

                return slot;
            }
        }
    }
}
