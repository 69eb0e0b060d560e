using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.InMemory;

namespace Mrl.Bench;

/// <summary>
/// The in-memory store: pass 1 is an exact parallel SIMD scan of a contiguous prefix array, so there is no ef_search and
/// nothing to build beyond the arrays. One store per prefix size, loaded when first searched and released for the next.
/// With <see cref="PrefixKind.Projection"/> each prefix size gets a projection fitted to a sample of the base vectors
/// first, and the fit's time is part of the load's.
/// </summary>
internal sealed class MemoryBenchBackend(BenchDataset data, PrefixKind prefixKind = PrefixKind.Truncate, bool? centred = null) : IBenchBackend
{
    private readonly List<IndexBuildRecord> _builds = [];
    private IReadOnlyList<int> _prefixDims = [];
    private InMemoryAdaptiveStore<long>? _store;
    private int _storePrefix;

    public string Name => "memory";

    public BackendFeatures Features { get; } = new(EfSearch: false, MaxEfSearch: 0, new Dictionary<string, string>
    {
        [BenchStrategy.BqRerank] = "binary quantization with rerank is pgvector's; postgres only",
        [BenchStrategy.TwoPassInDatabase] = "there is no database: it would run the same in-process rerank as two-pass",
        [BenchStrategy.TwoPassCachedCold] = "the in-memory store holds every full vector already",
        [BenchStrategy.TwoPassCachedWarm] = "the in-memory store holds every full vector already",
    });

    public string Settings => prefixKind == PrefixKind.Projection
        ? $"in-memory store: exact parallel SIMD scan of contiguous float32 projected keys (fitted on a sample of the base vectors, {((centred ?? ProjectionFitter.CentresFor(data.Metric)) ? "centred" : "uncentred")}); full = exact scan of the full vectors"
        : "in-memory store: exact parallel SIMD scan of contiguous float32 prefixes; full = exact scan of the full vectors";

    public IReadOnlyList<IndexBuildRecord> Builds => _builds;

    public Task PrepareAsync(IReadOnlyList<int> prefixDims, IBenchProgress progress, CancellationToken cancellationToken)
    {
        _prefixDims = prefixDims;
        _builds.Add(new IndexBuildRecord(Name, "full vectors (scanned)", null, null, (long)data.Count * data.Dimensions * sizeof(float), null, null));
        return Task.CompletedTask;
    }

    public async Task<StoreLease> OpenAsync(BenchConfiguration configuration, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var p = configuration.PrefixDims ?? (_store is null ? _prefixDims[0] : _storePrefix);
        if (_store is null || _storePrefix != p)
        {
            _store?.Dispose();
            _store = null;
            _store = await LoadAsync(p, progress, cancellationToken);
            _storePrefix = p;
        }

        return new StoreLease(_store);
    }

    public (double? Seconds, long? Bytes) IndexCost(BenchConfiguration configuration)
    {
        var build = _builds.LastOrDefault(b => b.PrefixDims == configuration.PrefixDims);
        return (build?.Seconds, build?.Bytes);
    }

    public ValueTask DisposeAsync()
    {
        _store?.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<InMemoryAdaptiveStore<long>> LoadAsync(int p, IBenchProgress progress, CancellationToken cancellationToken)
    {
        var task = progress.AddTask(string.Create(CultureInfo.InvariantCulture, $"Loading memory store, prefix {p}"), maxValue: data.Count);
        var started = Stopwatch.GetTimestamp();
        var layout = prefixKind == PrefixKind.Projection
            ? new EmbeddingLayout(ProjectionSample.Fit(data, p, centred, cancellationToken), data.Metric)
            : new EmbeddingLayout(data.Dimensions, p, data.Metric);
        var store = new InMemoryAdaptiveStore<long>(layout);
        await data.LoadIntoAsync(store, batchSize: 10_000, loaded => task.Value = loaded, cancellationToken);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        task.StopTask();
        if (!_builds.Any(b => b.PrefixDims == p))
        {
            var what = prefixKind == PrefixKind.Projection ? "projected key {0} (fit and load)" : "prefix {0} (load)";
            _builds.Add(new IndexBuildRecord(Name, string.Format(CultureInfo.InvariantCulture, what, p), p, seconds,
                (long)data.Count * p * sizeof(float), null, null));
        }

        return store;
    }
}
