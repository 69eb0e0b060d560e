using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Caching;
using Mrl.Adapters.Qdrant;
using Qdrant.Client;

namespace Mrl.Bench;

/// <summary>How the Qdrant benchmark collections are made.</summary>
/// <param name="Endpoint">The gRPC endpoint.</param>
/// <param name="ApiKey">The API key, or null.</param>
/// <param name="Collection">The collections' common name; each prefix size gets <c>{Collection}_p{p}</c>, deleted and re-created.</param>
/// <param name="HnswM">HNSW m of the prefix vectors.</param>
/// <param name="HnswEfConstruct">HNSW ef_construct of the prefix vectors.</param>
/// <param name="KeepCollections">Leave the collections in place at the end.</param>
/// <param name="CacheStorage">float32 or float16 values in the full-vector cache.</param>
internal sealed record QdrantBenchOptions(Uri Endpoint, string? ApiKey, string Collection, int HnswM, int HnswEfConstruct, bool KeepCollections, CacheStorage CacheStorage);

/// <summary>
/// Qdrant: one collection per prefix size, each with the store's two named vectors (the prefix with HNSW, the full vector
/// without a graph). Its "build" is the upload plus the time until the optimizers have finished (the collection is green),
/// since Qdrant builds HNSW in the background; Qdrant does not report an index's size. <c>full</c> is Qdrant's exact scan of
/// the full vectors, which have no graph. The cached strategies key the cache by the store's write stamp; each prefix size
/// has its own collection, loaded with its own stamps, so the warm cache is warmed for one prefix size at a time.
/// </summary>
internal sealed class QdrantBenchBackend : IBenchBackend
{
    private const int LoadBatch = 1_000;
    private readonly BenchDataset _data;
    private readonly QdrantBenchOptions _options;
    private readonly QdrantClient _client;
    private readonly Dictionary<int, QdrantAdaptiveStore<long>> _stores = [];
    private readonly List<IndexBuildRecord> _builds = [];
    private IReadOnlyList<int> _prefixDims = [];
    private (int PrefixDims, QdrantAdaptiveStore<long> Store)? _warm;

    public QdrantBenchBackend(BenchDataset data, QdrantBenchOptions options)
    {
        _data = data;
        _options = options;
        _client = new QdrantClient(options.Endpoint, string.IsNullOrEmpty(options.ApiKey) ? null : options.ApiKey);
        Features = new BackendFeatures(EfSearch: true, MaxEfSearch: 100_000, new Dictionary<string, string>
        {
            [BenchStrategy.BqRerank] = "bq-rerank is pgvector's binary quantization; Qdrant's own quantization with rescoring is not measured yet",
        });
    }

    public string Name => "qdrant";

    public BackendFeatures Features { get; }

    public string Settings => string.Create(CultureInfo.InvariantCulture,
        $"Qdrant at {_options.Endpoint}: collections {_options.Collection}_p<p>, prefix vector with HNSW m={_options.HnswM}, ef_construct={_options.HnswEfConstruct}, full vector without a graph (full = exact scan); build = upload + optimizers until green");

    public IReadOnlyList<IndexBuildRecord> Builds => _builds;

    public async Task PrepareAsync(IReadOnlyList<int> prefixDims, IBenchProgress progress, CancellationToken cancellationToken)
    {
        _prefixDims = prefixDims;
        foreach (var p in prefixDims)
        {
            var options = StoreOptions(p);
            var maintenance = new QdrantMaintenance(_client, options);

            // Each collection is deleted and re-created: never one that this command did not name itself.
            if (!options.Collection.StartsWith("mrl_bench", StringComparison.Ordinal) && await maintenance.ReadStatusAsync(cancellationToken) is not null)
            {
                throw new InvalidOperationException(
                    $"Collection {options.Collection} exists. mrl bench deletes and re-creates its collections, so it only replaces collections named mrl_bench*; choose another --collection.");
            }

            await maintenance.DeleteCollectionAsync(cancellationToken);
            var store = new QdrantAdaptiveStore<long>(_client, options);
            await store.EnsureSchemaAsync(cancellationToken);

            var started = Stopwatch.GetTimestamp();
            var load = progress.AddTask($"Loading qdrant {options.Collection}", maxValue: _data.Count);
            await _data.LoadIntoAsync(store, LoadBatch, loaded => load.Value = loaded, cancellationToken);
            load.StopTask();
            var loaded = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var optimize = progress.AddTask($"Qdrant optimizers on {options.Collection}", maxValue: _data.Count);
            var final = await maintenance.WaitUntilOptimizedAsync(TimeSpan.FromMilliseconds(500),
                new Progress<QdrantCollectionStatus>(s => optimize.Value = Math.Min(_data.Count, s.IndexedVectorsCount)), cancellationToken);
            optimize.Value = _data.Count;
            optimize.StopTask();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _builds.Add(new IndexBuildRecord(Name, string.Create(CultureInfo.InvariantCulture,
                $"{options.Collection} (upload {loaded:F1} s, then optimizers; {final.IndexedVectorsCount} vectors indexed in {final.SegmentsCount} segments)"), p, seconds, null, null, null));
            _stores[p] = store;
        }
    }

    public async Task<StoreLease> OpenAsync(BenchConfiguration configuration, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var p = configuration.PrefixDims ?? _prefixDims[0];
        switch (configuration.Strategy)
        {
            case BenchStrategy.TwoPassCachedCold:
                return new StoreLease(new QdrantAdaptiveStore<long>(_client, StoreOptions(p)) { FullVectorCache = NewCache() });
            case BenchStrategy.TwoPassCachedWarm:
                if (_warm is not { } warm || warm.PrefixDims != p)
                {
                    // The previous prefix size's cache goes first: two full copies of the vectors need not fit at once.
                    _warm = null;
                    var store = new QdrantAdaptiveStore<long>(_client, StoreOptions(p)) { FullVectorCache = NewCache() };
                    var task = progress.AddTask($"Warming the full-vector cache of {StoreOptions(p).Collection}", maxValue: _data.Count);
                    await store.WarmAsync(new Progress<long>(points => task.Value = points), cancellationToken: cancellationToken);
                    task.Value = _data.Count;
                    task.StopTask();
                    _warm = warm = (p, store);
                }

                return new StoreLease(warm.Store);
            default:
                return new StoreLease(_stores[p]);
        }
    }

    public (double? Seconds, long? Bytes) IndexCost(BenchConfiguration configuration)
    {
        var build = configuration.PrefixDims is null ? null : _builds.FirstOrDefault(b => b.PrefixDims == configuration.PrefixDims);
        return (build?.Seconds, build?.Bytes);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_options.KeepCollections)
            {
                foreach (var p in _stores.Keys)
                {
                    await new QdrantMaintenance(_client, StoreOptions(p)).DeleteCollectionAsync();
                }
            }
        }
        finally
        {
            _client.Dispose();
        }
    }

    private InMemoryFullVectorCache<long> NewCache()
    {
        // Room for every point, plus the slack of a partly filled chunk in each of the cache's 16 stripes.
        var entry = new FullVectorCacheOptions(_data.Dimensions, long.MaxValue, _options.CacheStorage).BytesPerEntry;
        return new InMemoryFullVectorCache<long>(new FullVectorCacheOptions(_data.Dimensions, (_data.Count + (16L * 256)) * entry, _options.CacheStorage));
    }

    private QdrantStoreOptions StoreOptions(int p) => new()
    {
        ApiKey = _options.ApiKey,
        Layout = new EmbeddingLayout(_data.Dimensions, p, _data.Metric),
        Collection = string.Create(CultureInfo.InvariantCulture, $"{_options.Collection}_p{p}"),
        PrefixHnswM = _options.HnswM,
        PrefixHnswEfConstruct = _options.HnswEfConstruct,
        RequestTimeout = TimeSpan.FromMinutes(5),
    };
}
