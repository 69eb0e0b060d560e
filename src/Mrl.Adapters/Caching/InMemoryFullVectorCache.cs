using System.Numerics.Tensors;

namespace Mrl.Adapters.Caching;

/// <summary>
/// A full-vector cache in process memory, within a byte budget, evicting with CLOCK (second chance). Lock-striped for
/// concurrent searches; a hit allocates nothing. Storage grows in chunks as entries arrive, so memory follows the
/// number of entries rather than the budget.
/// </summary>
public sealed class InMemoryFullVectorCache<TKey> : IFullVectorCache<TKey> where TKey : notnull
{
    private const int ChunkVectors = 256;
    private readonly Stripe[] _stripes;

    /// <summary>Creates an empty cache.</summary>
    public InMemoryFullVectorCache(FullVectorCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        var stripes = (int)Math.Clamp(options.Capacity / ChunkVectors, 1, 16);
        _stripes = new Stripe[stripes];
        for (var i = 0; i < stripes; i++)
        {
            var capacity = (int)Math.Min(int.MaxValue, (options.Capacity / stripes) + (i < options.Capacity % stripes ? 1 : 0));
            _stripes[i] = new Stripe(options.Dimensions, capacity, options.Storage);
        }
    }

    /// <summary>The budget and format.</summary>
    public FullVectorCacheOptions Options { get; }

    /// <inheritdoc />
    public int Dimensions => Options.Dimensions;

    /// <inheritdoc />
    public FullVectorCacheStatistics Statistics => CacheStripe.Total(_stripes, 0, FullVectorCacheOptions.EntryOverhead);

    /// <inheritdoc />
    public CacheLookup TryGet(TKey key, long version, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(destination.Length, Dimensions, nameof(destination));
        var stripe = StripeOf(key);
        lock (stripe)
        {
            return stripe.TryGet(key, version, destination);
        }
    }

    /// <inheritdoc />
    public bool Contains(TKey key, long version)
    {
        var stripe = StripeOf(key);
        lock (stripe)
        {
            return stripe.Contains(key, version);
        }
    }

    /// <inheritdoc />
    public void Put(TKey key, long version, ReadOnlySpan<float> fullVector)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(fullVector.Length, Dimensions, nameof(fullVector));
        var stripe = StripeOf(key);
        lock (stripe)
        {
            stripe.Put(key, version, fullVector);
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

    private Stripe StripeOf(TKey key) => _stripes[(uint)EqualityComparer<TKey>.Default.GetHashCode(key) % (uint)_stripes.Length];

    private sealed class Stripe(int dimensions, int capacity, CacheStorage storage) : CacheStripe
    {
        private readonly Dictionary<TKey, int> _slots = [];
        private readonly List<float[]> _singleChunks = [];
        private readonly List<Half[]> _halfChunks = [];
        private TKey[] _keys = [];
        private long[] _versions = [];
        private bool[] _referenced = [];
        private int _hand;

        public override int Count => _slots.Count;

        public override long AllocatedBytes => (_singleChunks.Sum(c => (long)c.Length) * sizeof(float)) + (_halfChunks.Sum(c => (long)c.Length) * 2);

        public CacheLookup TryGet(TKey key, long version, Span<float> destination)
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                Misses++;
                return CacheLookup.Miss;
            }

            if (_versions[slot] != version)
            {
                Stale++;
                return CacheLookup.Stale;
            }

            if (storage == CacheStorage.HalfPrecision)
            {
                TensorPrimitives.ConvertToSingle(HalfSlot(slot), destination);
            }
            else
            {
                SingleSlot(slot).CopyTo(destination);
            }

            _referenced[slot] = true;
            Hits++;
            return CacheLookup.Hit;
        }

        public bool Contains(TKey key, long version) => _slots.TryGetValue(key, out var slot) && _versions[slot] == version;

        public void Put(TKey key, long version, ReadOnlySpan<float> vector)
        {
            if (!_slots.TryGetValue(key, out var slot))
            {
                slot = _slots.Count < capacity ? Grow() : Evict();
                _slots[key] = slot;
                _keys[slot] = key;
                _referenced[slot] = false;
            }

            // A new entry earns its second chance by being read; the hand reaches it only after a full turn anyway.
            _versions[slot] = version;
            if (storage == CacheStorage.HalfPrecision)
            {
                TensorPrimitives.ConvertToHalf(vector, HalfSlot(slot));
            }
            else
            {
                vector.CopyTo(SingleSlot(slot));
            }
        }

        public void Clear()
        {
            _slots.Clear();
            _singleChunks.Clear();
            _halfChunks.Clear();
            _keys = [];
            _versions = [];
            _referenced = [];
            _hand = 0;
        }

        private int Grow()
        {
            var slot = _slots.Count;
            if (slot % ChunkVectors == 0)
            {
                // The last chunk holds only what the stripe's share of the budget allows: the budget is a promise,
                // and a full chunk would exceed a small one many times over.
                var vectors = Math.Min(ChunkVectors, capacity - slot);
                if (storage == CacheStorage.HalfPrecision)
                {
                    _halfChunks.Add(new Half[vectors * dimensions]);
                }
                else
                {
                    _singleChunks.Add(new float[vectors * dimensions]);
                }

                var size = slot + vectors;
                Array.Resize(ref _keys, size);
                Array.Resize(ref _versions, size);
                Array.Resize(ref _referenced, size);
            }

            return slot;
        }

        // CLOCK: a recently used entry gets a second chance; the first one found unused is replaced.
        private int Evict()
        {
            while (true)
            {
                var slot = _hand;
                _hand = (_hand + 1) % _slots.Count;
                if (_referenced[slot])
                {
                    _referenced[slot] = false;
                    continue;
                }

                _slots.Remove(_keys[slot]);
                Evictions++;
                return slot;
            }
        }

        private Span<float> SingleSlot(int slot) => _singleChunks[slot / ChunkVectors].AsSpan(slot % ChunkVectors * dimensions, dimensions);

        private Span<Half> HalfSlot(int slot) => _halfChunks[slot / ChunkVectors].AsSpan(slot % ChunkVectors * dimensions, dimensions);
    }
}
