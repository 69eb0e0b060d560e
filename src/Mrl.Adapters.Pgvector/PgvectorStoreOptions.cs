using Polly;

namespace Mrl.Adapters.Pgvector;

/// <summary>Where a pgvector store keeps its records, and how it searches them.</summary>
public sealed class PgvectorStoreOptions
{
    /// <summary>The connection string, used when no <c>NpgsqlDataSource</c> is given.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The table's schema. Default <c>public</c>.</summary>
    public string Schema { get; set; } = "public";

    /// <summary>The table. Required.</summary>
    public string Table { get; set; } = "";

    /// <summary>The primary-key column: <c>bigint</c>/<c>integer</c> for long keys, <c>uuid</c> for Guid keys, <c>text</c>/<c>varchar</c> for string keys. Default <c>id</c>.</summary>
    public string KeyColumn { get; set; } = "id";

    /// <summary>The full-vector column (<c>vector(D)</c> or <c>halfvec(D)</c>). Default <c>embedding</c>.</summary>
    public string VectorColumn { get; set; } = "embedding";

    /// <summary>The jsonb payload column, or null when the payload is a set of plain columns (<see cref="PayloadColumns"/>) or absent. Default <c>payload</c>.</summary>
    public string? PayloadColumn { get; set; } = "payload";

    /// <summary>
    /// Plain columns that form the payload, used when <see cref="PayloadColumn"/> is null: they come back with hits as JSON
    /// fields of the same names, can be filtered on, and are written from payload fields of the same names.
    /// </summary>
    public IList<string> PayloadColumns { get; } = [];

    /// <summary>
    /// A column that tells apart several collections kept in one table (LangChain's <c>collection_id</c>): with
    /// <see cref="ScopeValue"/>, every read, search, count and delete sees only the rows whose column holds that value, and
    /// every upsert writes it; the prefix index the store or the migrator builds is partial, of that value's rows only, and pass 1
    /// carries the same predicate so that the planner uses it. Default null: the whole table is the store's.
    /// </summary>
    public string? ScopeColumn { get; set; }

    /// <summary>The value of <see cref="ScopeColumn"/> that is this store's, as text (a uuid, a number or a name); PostgreSQL converts it to the column's type.</summary>
    public string? ScopeValue { get; set; }

    /// <summary>Whether <c>EnsureSchemaAsync</c> creates the table when it is missing. Default true; an existing table is checked, never changed.</summary>
    public bool CreateTableIfMissing { get; set; } = true;

    /// <summary>The type of the full column of a table the store creates. Default <see cref="VectorType.Vector"/>.</summary>
    public VectorType FullVectorType { get; set; } = VectorType.Vector;

    /// <summary>How the prefix is held. Default <see cref="PrefixStorage.Column"/>.</summary>
    public PrefixStorage PrefixStorage { get; set; } = PrefixStorage.Column;

    /// <summary>The prefix column in <see cref="PrefixStorage.Column"/> mode. Default <c>{VectorColumn}_prefix</c>.</summary>
    public string? PrefixColumn { get; set; }

    /// <summary>The prefix column's type. Default <see cref="VectorType.HalfVec"/> (the expression index is always halfvec).</summary>
    public VectorType PrefixVectorType { get; set; } = VectorType.HalfVec;

    /// <summary>
    /// The prefix index. Default <c>{table}_{prefix column}_{hash}_hnsw</c> (or <c>{table}_{vector column}_{hash}_p{p}_hnsw</c> for an
    /// expression index), where the hash of the table and column names keeps two tables from deriving the same name. With
    /// <see cref="ScopeColumn"/> the index is partial, of the store's collection only (<c>WHERE scope_column = value</c>), and the
    /// scope goes into the hash too, so each collection of a shared table gets its own.
    /// </summary>
    public string? IndexName { get; set; }

    /// <summary>HNSW <c>m</c> for the indexes the store or migrator creates. Default 16.</summary>
    public int HnswM { get; set; } = 16;

    /// <summary>HNSW <c>ef_construction</c>. Default 64.</summary>
    public int HnswEfConstruction { get; set; } = 64;

    /// <summary>Whether <c>EnsureSchemaAsync</c> also builds an HNSW index on the full vectors, for the single-pass baseline. Default false.</summary>
    public bool CreateFullDimensionIndex { get; set; }

    /// <summary>
    /// When the store creates the table, leave the HNSW indexes to <see cref="PgvectorAdaptiveStore{TKey}.CreateIndexesAsync"/>:
    /// loading first and building once is far faster than growing an HNSW index row by row. Default false.
    /// </summary>
    public bool DeferIndexes { get; set; }

    /// <summary>The least <c>hnsw.ef_search</c> pass 1 runs with; it is raised to the candidate count. Default 40 (pgvector's default).</summary>
    public int DefaultEfSearch { get; set; } = 40;

    /// <summary>Records per upsert transaction. Default 1,000.</summary>
    public int UpsertBatchSize { get; set; } = 1_000;

    /// <summary>
    /// Batches of at least this many records are written with binary COPY into a temporary table, then merged; smaller ones
    /// as pipelined INSERT ... ON CONFLICT statements. 0 disables COPY. Default 1,000, where COPY measured faster (docs/pgvector.md).
    /// </summary>
    public int CopyThreshold { get; set; } = 1_000;

    /// <summary>Seconds a command may run. Default 30.</summary>
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How many more times an operation that failed with a transient error (<see cref="PgvectorResilience.IsTransient"/>) is
    /// tried, each time on a fresh connection: get, count, search, delete, each upsert batch, each migration backfill batch.
    /// All of them are idempotent (an upsert batch is one all-or-nothing transaction ending in <c>ON CONFLICT DO UPDATE</c>).
    /// 0 turns retries off. Default 3. Ignored when <see cref="ResiliencePipeline"/> is set.
    /// </summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The wait before the first retry; it doubles for each further one, with jitter, up to 5 s. Default 100 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A pipeline of your own to run those operations through instead of the default retry (for instance with telemetry,
    /// a circuit breaker, or <see cref="PgvectorResilience.IsTransient"/> widened to timeouts). Only idempotent operations
    /// run through it; each call of its callback opens a fresh connection. Default null: the retry set by
    /// <see cref="MaxRetries"/> and <see cref="RetryDelay"/>.
    /// </summary>
    public ResiliencePipeline? ResiliencePipeline { get; set; }

    internal string ResolvedPrefixColumn => PrefixColumn ?? SqlIdentifier.Derive(VectorColumn, "prefix");

    internal string ResolvedIndexName(int prefixDimensions) => IndexName ?? PartitionIndexName(Table, prefixDimensions);

    /// <summary>
    /// The prefix index of one table: the parent's own name for the parent, a name of the partition's own for each partition.
    /// A scoped store's index is partial, of its collection only, so the scope goes into the name's hash: each collection of a
    /// shared table gets an index of its own.
    /// </summary>
    internal string PartitionIndexName(string table, int prefixDimensions) => PrefixStorage == PrefixStorage.Column
        ? ObjectName(table, ResolvedPrefixColumn, "hnsw", ScopeKey)
        : ObjectName(table, VectorColumn, "p" + prefixDimensions.ToString(System.Globalization.CultureInfo.InvariantCulture) + "_hnsw", ScopeKey);

    private string? ScopeKey => ScopeColumn is null ? null : ScopeColumn + "\0" + ScopeValue;

    internal string FullIndexName => PartitionFullIndexName(Table);

    internal string PartitionFullIndexName(string table) => ObjectName(table, VectorColumn, "full_hnsw");

    /// <summary>The trigger, and the trigger function, that keep the prefix filled.</summary>
    internal string TriggerName => ObjectName(Table, ResolvedPrefixColumn, "fill");

    /// <summary>The side table that holds a projected key's directions, one row per direction and version.</summary>
    internal string ProjectionTableName => ProjectionTable ?? ObjectName(Table, ResolvedPrefixColumn, "projection");

    /// <summary>
    /// The side table when it is not the one this prefix column's name derives: a refit's key column keeps its directions
    /// in the side table of the column it replaces. Null derives it.
    /// </summary>
    internal string? ProjectionTable { get; set; }

    /// <summary>
    /// The options of the key column of projection <paramref name="version"/> while it is not the store's: built beside the
    /// key in use by a refit (<c>{prefix column}_v{version}</c>), or moved aside by one, with its own trigger, functions and
    /// indexes named after it, and the directions in the side table of the store's column.
    /// </summary>
    internal PgvectorStoreOptions ForKeyVersion(int version)
    {
        var copy = Clone();
        copy.PrefixColumn = SqlIdentifier.Derive(ResolvedPrefixColumn, "v" + version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        copy.IndexName = null;
        copy.ProjectionTable = ProjectionTableName;
        return copy;
    }

    /// <summary>The partial index of the rows still without a prefix, on the table or on one partition.</summary>
    internal string PendingIndexName(string table) => ObjectName(table, ResolvedPrefixColumn, "pending");

    /// <summary>The function that computes a prefix from a full vector, for the trigger and the backfill.</summary>
    internal string PrefixFunctionName => ObjectName(Table, ResolvedPrefixColumn, "prefix");

    /// <summary>
    /// A name for an object that belongs to one column of one table. A hash of the table and the column, taken apart, sits in the
    /// name: table <c>products_image</c> with column <c>embedding</c> and table <c>products</c> with column <c>image_embedding</c>
    /// read alike when joined with an underscore, and without it would share their trigger function and index.
    /// </summary>
    internal static string ObjectName(string table, string column, string suffix, string? scope = null)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(table + "\0" + column + (scope is null ? "" : "\0" + scope)));
        return SqlIdentifier.Derive(table + "_" + column, Convert.ToHexStringLower(hash)[..8] + "_" + suffix);
    }

    /// <summary>A copy, so that a store is not changed by what its caller does with the options afterwards.</summary>
    internal PgvectorStoreOptions Clone()
    {
        var copy = new PgvectorStoreOptions
        {
            ConnectionString = ConnectionString,
            Schema = Schema,
            Table = Table,
            KeyColumn = KeyColumn,
            VectorColumn = VectorColumn,
            PayloadColumn = PayloadColumn,
            ScopeColumn = ScopeColumn,
            ScopeValue = ScopeValue,
            CreateTableIfMissing = CreateTableIfMissing,
            FullVectorType = FullVectorType,
            PrefixStorage = PrefixStorage,
            PrefixColumn = PrefixColumn,
            PrefixVectorType = PrefixVectorType,
            IndexName = IndexName,
            HnswM = HnswM,
            HnswEfConstruction = HnswEfConstruction,
            CreateFullDimensionIndex = CreateFullDimensionIndex,
            DeferIndexes = DeferIndexes,
            DefaultEfSearch = DefaultEfSearch,
            UpsertBatchSize = UpsertBatchSize,
            CopyThreshold = CopyThreshold,
            CommandTimeoutSeconds = CommandTimeoutSeconds,
            MaxRetries = MaxRetries,
            RetryDelay = RetryDelay,
            ResiliencePipeline = ResiliencePipeline,
            ProjectionTable = ProjectionTable,
        };
        foreach (var column in PayloadColumns)
        {
            copy.PayloadColumns.Add(column);
        }

        return copy;
    }

    /// <summary>Checks the options and throws an <see cref="ArgumentException"/> naming the first bad one.</summary>
    internal void Validate()
    {
        SqlIdentifier.Validate(Schema, "schema name");
        SqlIdentifier.Validate(Table, "table name");
        SqlIdentifier.Validate(KeyColumn, "key column");
        SqlIdentifier.Validate(VectorColumn, "vector column");
        if (PayloadColumn is not null)
        {
            SqlIdentifier.Validate(PayloadColumn, "payload column");
            if (PayloadColumns.Count > 0)
            {
                throw new ArgumentException("Set either PayloadColumn (jsonb) or PayloadColumns (plain columns), not both.");
            }
        }

        foreach (var column in PayloadColumns)
        {
            SqlIdentifier.Validate(column, "payload column");
        }

        SqlIdentifier.Validate(ResolvedPrefixColumn, "prefix column");
        if ((ScopeColumn is null) != (ScopeValue is null))
        {
            throw new ArgumentException("Set ScopeColumn and ScopeValue together: the column that tells collections apart, and this store's value of it.");
        }

        if (ScopeColumn is not null)
        {
            SqlIdentifier.Validate(ScopeColumn, "scope column");
            PgvectorTable.ScopeLiteral(ScopeValue!, "text");
        }

        if (IndexName is not null)
        {
            SqlIdentifier.Validate(IndexName, "index name");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(HnswM, 2, nameof(HnswM));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(HnswM, 100, nameof(HnswM));
        ArgumentOutOfRangeException.ThrowIfLessThan(HnswEfConstruction, 4, nameof(HnswEfConstruction));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(HnswEfConstruction, 1000, nameof(HnswEfConstruction));
        ArgumentOutOfRangeException.ThrowIfLessThan(DefaultEfSearch, 1, nameof(DefaultEfSearch));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(DefaultEfSearch, 1000, nameof(DefaultEfSearch));
        ArgumentOutOfRangeException.ThrowIfLessThan(UpsertBatchSize, 1, nameof(UpsertBatchSize));
        ArgumentOutOfRangeException.ThrowIfNegative(CopyThreshold, nameof(CopyThreshold));
        ArgumentOutOfRangeException.ThrowIfNegative(CommandTimeoutSeconds, nameof(CommandTimeoutSeconds));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRetries, nameof(MaxRetries));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRetries, 100, nameof(MaxRetries));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryDelay, TimeSpan.Zero, nameof(RetryDelay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RetryDelay, TimeSpan.FromMinutes(1), nameof(RetryDelay));
    }
}
