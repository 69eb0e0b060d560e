namespace Mrl.Bench;

/// <summary>What a benchmark run sweeps and how it measures.</summary>
/// <param name="K">Hits per query (recall@k).</param>
/// <param name="Strategies">Strategies to run where the backend can.</param>
/// <param name="PrefixDims">Prefix sizes, each with its own index.</param>
/// <param name="Oversampling">Oversampling factors for the strategies with a pass 2.</param>
/// <param name="EfSearch">ef_search values for HNSW backends.</param>
/// <param name="Clients">Concurrent clients for the second measurement of each configuration; 1 measures once.</param>
/// <param name="Warmup">Untimed queries before each measurement (none for a cold cache).</param>
/// <param name="TruthCache">Where computed ground truth is cached; null for nowhere.</param>
/// <param name="BandwidthBytes">Size of the memory-bandwidth probe; 0 skips it.</param>
/// <param name="TargetRecall">The recall the summary compares strategies at.</param>
/// <param name="CommandLine">The command, as the report shows it.</param>
/// <param name="Rounds">Times every configuration is measured, round-robin across all of them.</param>
internal sealed record BenchSettings(
    int K, IReadOnlyList<string> Strategies, IReadOnlyList<int> PrefixDims, IReadOnlyList<int> Oversampling, IReadOnlyList<int> EfSearch,
    int Clients, int Warmup, string? TruthCache, long BandwidthBytes, double TargetRecall, string CommandLine, int Rounds = 1);
