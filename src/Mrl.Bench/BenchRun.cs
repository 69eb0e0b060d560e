namespace Mrl.Bench;

/// <summary>Everything one benchmark run measured.</summary>
internal sealed record BenchRun(
    BenchDataset Data,
    BenchSettings Settings,
    string TruthSource,
    IReadOnlyList<BenchRow> Rows,
    IReadOnlyList<IndexBuildRecord> Builds,
    IReadOnlyDictionary<string, string> BackendSettings,
    double? MemoryBandwidth,
    IReadOnlyList<ScanRate> ScanRates,
    IReadOnlyList<string> Summary,
    IReadOnlyList<string> Notes,
    DateTimeOffset Started,
    TimeSpan Elapsed);
