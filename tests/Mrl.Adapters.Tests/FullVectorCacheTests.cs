using Mrl.Adapters.Caching;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Tests;

public sealed class FullVectorCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static float[] Vectors(int count, int dimensions) =>
        new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dimensions, Seed = 9 }).Generate(count);

    public static TheoryData<string, CacheStorage> Caches => new()
    {
        { "memory", CacheStorage.FullPrecision },
        { "memory", CacheStorage.HalfPrecision },
        { "mapped", CacheStorage.FullPrecision },
        { "mapped", CacheStorage.HalfPrecision },
    };

    private IFullVectorCache<long> Create(string kind, FullVectorCacheOptions options) => kind == "memory"
        ? new InMemoryFullVectorCache<long>(options)
        : new MemoryMappedFullVectorCache<long>(Path.Combine(_directory, Guid.NewGuid() + ".cache"), options, "table-1");

    [Theory]
    [MemberData(nameof(Caches))]
    public void Hit_miss_and_stale_are_told_apart_and_a_stale_vector_is_never_served(string kind, CacheStorage storage)
    {
        var cache = Create(kind, new FullVectorCacheOptions(32, 1 << 20, storage));
        var data = Vectors(2, 32);
        var buffer = new float[32];
        var tolerance = storage == CacheStorage.HalfPrecision ? 2e-3f : 0f;

        Assert.Equal(CacheLookup.Miss, cache.TryGet(7, 1, buffer));
        cache.Put(7, 1, data.AsSpan(0, 32));
        Assert.Equal(CacheLookup.Hit, cache.TryGet(7, 1, buffer));
        Assert.All(buffer.Zip(data.AsSpan(0, 32).ToArray()), p => Assert.True(Math.Abs(p.First - p.Second) <= tolerance));

        Array.Clear(buffer);
        Assert.Equal(CacheLookup.Stale, cache.TryGet(7, 2, buffer));
        Assert.All(buffer, v => Assert.Equal(0f, v));

        cache.Put(7, 2, data.AsSpan(32, 32));
        Assert.Equal(CacheLookup.Stale, cache.TryGet(7, 1, buffer));
        Assert.Equal(CacheLookup.Hit, cache.TryGet(7, 2, buffer));
        Assert.True(Math.Abs(buffer[0] - data[32]) <= tolerance);
        Assert.Equal(new FullVectorCacheStatistics(2, 1, 2, 0, 1, cache.Statistics.BytesHeld), cache.Statistics);
        (cache as IDisposable)?.Dispose();
    }

    [Theory]
    [MemberData(nameof(Caches))]
    public void Budget_holds_under_churn_and_recently_used_entries_survive(string kind, CacheStorage storage)
    {
        var options = new FullVectorCacheOptions(64, 200 * (64 * 4 + 48), storage);
        var cache = Create(kind, options);
        var data = Vectors(1, 64);
        var buffer = new float[64];
        for (var key = 0L; key < 5_000; key++)
        {
            cache.Put(key, key, data);
            cache.TryGet(3, 3, buffer);
        }

        var statistics = cache.Statistics;
        Assert.True(statistics.Count <= options.Capacity + 16, $"{statistics.Count} entries, capacity {options.Capacity}");
        Assert.True(statistics.Evictions >= 5_000 - options.Capacity - 16);
        if (kind == "memory")
        {
            Assert.True(statistics.BytesHeld <= options.ByteBudget, $"{statistics.BytesHeld} bytes held, budget {options.ByteBudget}");
        }

        Assert.Equal(CacheLookup.Hit, cache.TryGet(3, 3, buffer));
        Assert.Equal(CacheLookup.Hit, cache.TryGet(4_999, 4_999, buffer));
        (cache as IDisposable)?.Dispose();
    }

    public static TheoryData<string, CacheStorage, int, long> Budgets => new()
    {
        { "memory", CacheStorage.HalfPrecision, 3072, 80 * (3072 * 2 + 48) },      // 80 entries
        { "memory", CacheStorage.FullPrecision, 3072, 80 * (3072 * 4 + 48) },
        { "memory", CacheStorage.HalfPrecision, 768, 8L << 20 },                   // 8 MiB
        { "memory", CacheStorage.FullPrecision, 64, 1000 },                         // 3 entries
        { "memory", CacheStorage.FullPrecision, 1536, 64L << 20 },                  // 64 MiB
        { "mapped", CacheStorage.HalfPrecision, 3072, 80 * (3072 * 2 + 48) },
        { "mapped", CacheStorage.HalfPrecision, 768, 8L << 20 },
        { "mapped", CacheStorage.FullPrecision, 1536, 64L << 20 },
    };

    [Theory]
    [MemberData(nameof(Budgets))]
    public void Bytes_held_never_exceed_the_byte_budget(string kind, CacheStorage storage, int dimensions, long budget)
    {
        var options = new FullVectorCacheOptions(dimensions, budget, storage);
        var cache = Create(kind, options);
        var vector = Vectors(1, dimensions);
        var entries = (options.Capacity * 3 / 2) + 10;
        for (var key = 0L; key < entries; key++)
        {
            cache.Put(key, 1, vector);
            Assert.True(cache.Statistics.BytesHeld <= budget || key % 997 != 0, $"{cache.Statistics.BytesHeld} bytes held after {key + 1} entries, budget {budget}");
        }

        var statistics = cache.Statistics;
        Assert.True(statistics.BytesHeld <= budget, $"{statistics.BytesHeld} bytes held for {statistics.Count} entries, budget {budget}");
        Assert.True(statistics.Count >= options.Capacity * 9 / 10, $"{statistics.Count} entries kept, the budget holds {options.Capacity}");
        (cache as IDisposable)?.Dispose();
    }

    [Fact]
    public void A_hit_allocates_nothing()
    {
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(768, 1 << 24, CacheStorage.HalfPrecision));
        var data = Vectors(1, 768);
        cache.Put(1, 1, data);
        var buffer = new float[768];

        // Past tiered compilation's first tiers and on-stack replacement, which allocate as they swap code in a running loop.
        for (var i = 0; i < 20_000; i++)
        {
            cache.TryGet(1, 1, buffer);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            cache.TryGet(1, 1, buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Mapped_cache_survives_a_reopen_and_starts_empty_for_another_table()
    {
        var path = Path.Combine(_directory, "reopen.cache");
        var options = new FullVectorCacheOptions(16, 1 << 20);
        var data = Vectors(100, 16);
        using (var cache = new MemoryMappedFullVectorCache<string>(path, options, "db:1:100"))
        {
            for (var i = 0; i < 100; i++)
            {
                cache.Put($"doc-{i}", i, data.AsSpan(i * 16, 16));
            }
        }

        var buffer = new float[16];
        using (var reopened = new MemoryMappedFullVectorCache<string>(path, options, "db:1:100"))
        {
            Assert.False(reopened.WasReset);
            Assert.Equal(100, reopened.LoadedEntries);
            Assert.Equal(CacheLookup.Hit, reopened.TryGet("doc-42", 42, buffer));
            Assert.Equal(data.AsSpan(42 * 16, 16).ToArray(), buffer);
            Assert.Equal(CacheLookup.Stale, reopened.TryGet("doc-42", 43, buffer));
        }

        using var otherTable = new MemoryMappedFullVectorCache<string>(path, options, "db:1:101");
        Assert.True(otherTable.WasReset);
        Assert.Equal(CacheLookup.Miss, otherTable.TryGet("doc-42", 42, buffer));
    }

    [Fact]
    public void Mapped_cache_left_open_by_a_crash_is_discarded()
    {
        var path = Path.Combine(_directory, "crash.cache");
        var options = new FullVectorCacheOptions(8, 1 << 16);
        var cache = new MemoryMappedFullVectorCache<long>(path, options, "t");
        cache.Put(1, 1, new float[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        File.Copy(path, path + ".copy");
        cache.Dispose();

        using var fromCrash = new MemoryMappedFullVectorCache<long>(path + ".copy", options, "t");
        Assert.True(fromCrash.WasReset);
        Assert.Equal(0, fromCrash.Statistics.Count);
    }

    [Fact]
    public void A_clean_mapped_cache_with_a_key_copied_into_every_slot_keeps_the_valid_entry_and_drops_the_rest()
    {
        var path = Path.Combine(_directory, "edited.cache");
        var options = new FullVectorCacheOptions(8, 1 << 16);
        var vector = new float[] { 1, 2, 3, 4, 5, 6, 7, 8 };
        long capacity;
        using (var cache = new MemoryMappedFullVectorCache<long>(path, options, "t"))
        {
            cache.Put(1, 1, vector);
            capacity = cache.Capacity;
        }

        // Header 64 bytes, then 32-byte slots whose flags (int32 at offset 24) are 1 in use; copy the one entry everywhere.
        var bytes = File.ReadAllBytes(path);
        var used = Enumerable.Range(0, (int)capacity).Single(slot => BitConverter.ToInt32(bytes, 64 + (slot * 32) + 24) == 1);
        for (var slot = 0; slot < capacity; slot++)
        {
            Array.Copy(bytes, 64 + (used * 32), bytes, 64 + (slot * 32), 32);
        }

        File.WriteAllBytes(path, bytes);
        var buffer = new float[8];
        using var reopened = new MemoryMappedFullVectorCache<long>(path, options, "t");

        Assert.False(reopened.WasReset);
        Assert.Equal(CacheLookup.Hit, reopened.TryGet(1, 1, buffer));
        Assert.Equal(vector, buffer);
        Assert.Equal(1, reopened.LoadedEntries);
        Assert.Equal(capacity - 1, reopened.DiscardedEntries);
        for (var key = 2L; key < 200; key++)
        {
            reopened.Put(key, 1, vector);
        }

        Assert.Equal(CacheLookup.Hit, reopened.TryGet(199, 1, buffer));
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void A_mapped_cache_file_is_created_for_its_owner_only()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes only");
        var path = Path.Combine(_directory, "private.cache");
        File.WriteAllText(path, "an older, world-readable file");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        using (new MemoryMappedFullVectorCache<long>(Path.Combine(_directory, "new.cache"), new FullVectorCacheOptions(8, 1 << 16), "t"))
        using (new MemoryMappedFullVectorCache<long>(path, new FullVectorCacheOptions(8, 1 << 16), "t"))
        {
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_directory, "new.cache")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_symbolic_link_at_the_cache_path_is_refused_and_its_target_left_alone()
    {
        var target = Path.Combine(_directory, "precious.txt");
        File.WriteAllText(target, "keep me");
        var link = Path.Combine(_directory, "link.cache");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<ArgumentException>(() => new MemoryMappedFullVectorCache<long>(link, new FullVectorCacheOptions(8, 1 << 16), "t"));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Equal("keep me", File.ReadAllText(target));
    }
}

/// <summary>Measures the managed heap, so it runs while no other test allocates.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementGroup
{
    public const string Name = "heap measurement";
}

[Collection(HeapMeasurementGroup.Name)]
public sealed class FullVectorCacheMemoryTests
{
    [Fact]
    public void Half_precision_memory_stays_within_ten_percent_of_n_times_d_times_two()
    {
        const int n = 100_000;
        const int d = 768;
        var data = new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = d, Seed = 9 }).Generate(1);
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var cache = new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(d, 1L << 32, CacheStorage.HalfPrecision));
        for (var key = 0L; key < n; key++)
        {
            cache.Put(key, 1, data);
        }

        var used = GC.GetTotalMemory(forceFullCollection: true) - before;
        GC.KeepAlive(cache);
        Assert.True(used <= n * d * 2 * 1.1, $"{used} bytes for {n} x {d} half-precision values ({n * d * 2} bytes of values)");
    }
}
