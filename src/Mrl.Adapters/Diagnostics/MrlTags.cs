namespace Mrl.Adapters.Diagnostics;

/// <summary>Tag names on the library's spans and measurements: OpenTelemetry's database conventions, then the library's own.</summary>
internal static class MrlTags
{
    public const string DbSystemName = "db.system.name";
    public const string DbCollectionName = "db.collection.name";
    public const string DbOperationName = "db.operation.name";
    public const string DbReturnedRows = "db.response.returned_rows";
    public const string ErrorType = "error.type";

    public const string FullDimensions = "mrl.full_dimensions";
    public const string PrefixDimensions = "mrl.prefix_dimensions";
    public const string Metric = "mrl.metric";
    public const string K = "mrl.k";
    public const string Oversampling = "mrl.oversampling";
    public const string StrategyRequested = "mrl.strategy.requested";
    public const string EfSearch = "mrl.ef_search";
    public const string Filtered = "mrl.filtered";
    public const string Strategy = "mrl.strategy";
    public const string CandidatesRequested = "mrl.candidates.requested";
    public const string CandidatesFetched = "mrl.candidates.fetched";
    public const string BytesFetched = "mrl.bytes_fetched";
    public const string RecordCount = "mrl.records";
    public const string MigrationStep = "mrl.migration.step";
    public const string CacheHits = "mrl.cache.hits";
    public const string CacheMisses = "mrl.cache.misses";
    public const string CacheStale = "mrl.cache.stale";
}
