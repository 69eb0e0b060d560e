using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>A store under benchmark: loads the data once, builds each index once, and hands out stores to search.</summary>
internal interface IBenchBackend : IAsyncDisposable
{
    /// <summary>The name results carry, e.g. <c>postgres</c>.</summary>
    string Name { get; }

    /// <summary>What it can run.</summary>
    BackendFeatures Features { get; }

    /// <summary>How it was set up, in one line for the report.</summary>
    string Settings { get; }

    /// <summary>Every index built so far, with its time, size and parallelism.</summary>
    IReadOnlyList<IndexBuildRecord> Builds { get; }

    /// <summary>Loads the data and builds the indexes for every prefix size (a backend may defer work to <see cref="OpenAsync"/>).</summary>
    Task PrepareAsync(IReadOnlyList<int> prefixDims, IBenchProgress progress, CancellationToken cancellationToken);

    /// <summary>The store to measure <paramref name="configuration"/> on; released by the caller when done.</summary>
    Task<StoreLease> OpenAsync(BenchConfiguration configuration, IBenchProgress progress, CancellationToken cancellationToken);

    /// <summary>The index a configuration searches: its build time (null when there is none to build) and its size.</summary>
    (double? Seconds, long? Bytes) IndexCost(BenchConfiguration configuration);

    /// <summary>
    /// The CPU time each of the database server's backends serving this benchmark has used so far; null where the backend
    /// has no database, or the server's processes cannot be read from here.
    /// </summary>
    Task<ServerCpuSample?> SampleServerCpuAsync(CancellationToken cancellationToken) => Task.FromResult<ServerCpuSample?>(null);
}

/// <summary>One search, as a store or a benchmark's own SQL runs it.</summary>
internal delegate Task<SearchResult<long>> BenchSearch(ReadOnlyMemory<float> query, SearchOptions options, CancellationToken cancellationToken);

/// <summary>A search to measure, and what to do when done with it.</summary>
internal sealed record StoreLease(BenchSearch Search, Func<ValueTask>? Release = null) : IAsyncDisposable
{
    /// <summary>Searches <paramref name="store"/>.</summary>
    public StoreLease(IAdaptiveStore<long> store, Func<ValueTask>? release = null)
        : this(store.SearchAsync, release)
    {
    }

    public ValueTask DisposeAsync() => Release?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>One index built for a benchmark.</summary>
/// <param name="Backend">The backend's name.</param>
/// <param name="Index">The index's name.</param>
/// <param name="PrefixDims">The prefix it indexes; null for the full vectors.</param>
/// <param name="Seconds">Wall time of the build; null when nothing is built (an exact scan).</param>
/// <param name="Bytes">Its size; null when the backend does not tell.</param>
/// <param name="WorkersPlanned">Parallel workers the build was planned with, leader not counted; null when unknown.</param>
/// <param name="WorkersSeen">The most parallel workers seen running during the build; null when not observed.</param>
/// <param name="Strategy">The strategy that searches it where the prefix does not say (<c>bq-rerank</c>); null otherwise.</param>
internal sealed record IndexBuildRecord(string Backend, string Index, int? PrefixDims, double? Seconds, long? Bytes, int? WorkersPlanned, int? WorkersSeen, string? Strategy = null);
