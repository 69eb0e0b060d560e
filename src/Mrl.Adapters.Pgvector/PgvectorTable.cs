using System.Globalization;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// What the store found in the database at start-up, and every SQL text the store runs against that table.
/// The one rendering class of the pgvector store: identifiers are quoted here, values are always parameters.
/// </summary>
/// <remarks>
/// Every pgvector function, type and operator is qualified with the schema pgvector was installed in, and built-in functions
/// with <c>pg_catalog</c>: whoever can create objects in a schema that comes earlier on the search_path (<c>public</c>, before
/// PostgreSQL 15) could otherwise put a function or operator of the same signature there, and every query would run it.
/// The qualified forms are the same functions and operators the indexes were built with, so the indexes still match.
/// </remarks>
internal sealed class PgvectorTable
{
    /// <summary>The widest vector pgvector's HNSW indexes as <c>vector</c>; <c>halfvec</c> goes to 4,000.</summary>
    public const int MaxVectorIndexDimensions = 2_000;

    /// <summary>The widest vector pgvector's HNSW indexes as <c>halfvec</c>.</summary>
    public const int MaxHalfvecIndexDimensions = 4_000;

    private readonly string _table;
    private readonly string _key;
    private readonly string _vector;
    private readonly string _vectorWire;
    private readonly string _payloadSelect;
    private readonly string _pgvector;
    private readonly PgvectorFilterRenderer _filters;
    private readonly string _computedPrefix;
    private readonly string? _rowScope;

    /// <param name="options">The store's options: table, columns, prefix storage.</param>
    /// <param name="layout">The embedding layout.</param>
    /// <param name="fullType">The type of the full-vector column.</param>
    /// <param name="pgvectorVersion">pgvector's installed version.</param>
    /// <param name="pgvectorSchema">The schema pgvector was installed in (<see cref="PgvectorCatalog.Extension"/>).</param>
    /// <param name="undeclaredDimension">Whether the vector column declares no dimension (<c>vector</c> rather than <c>vector(D)</c>).</param>
    /// <param name="scopeType">The type of <see cref="PgvectorStoreOptions.ScopeColumn"/> (<c>uuid</c>, <c>text</c>, <c>int8</c>, ...), when there is one.</param>
    /// <param name="payloadIsJson">Whether the payload column is <c>json</c> rather than <c>jsonb</c>.</param>
    public PgvectorTable(
        PgvectorStoreOptions options, EmbeddingLayout layout, VectorType fullType, Version pgvectorVersion, string pgvectorSchema,
        bool undeclaredDimension = false, string? scopeType = null, bool payloadIsJson = false)
    {
        Options = options;
        Layout = layout;
        FullType = fullType;
        PgvectorVersion = pgvectorVersion;
        PgvectorSchema = pgvectorSchema;
        _pgvector = SqlIdentifier.Quote(pgvectorSchema, "pgvector schema");
        _table = SqlIdentifier.Qualified(options.Schema, options.Table);
        _key = SqlIdentifier.Quote(options.KeyColumn, "key column");
        _vector = SqlIdentifier.Quote(options.VectorColumn, "vector column");

        // Full vectors read for a rerank come as the type's own binary form in a bytea, decoded with whole-span byte swaps
        // (PgvectorVectorCodec.ReadWire) rather than value by value as the type's Npgsql converter reads them.
        _vectorWire = $"{_pgvector}.{TypeName(fullType)}_send({_vector})";
        _filters = new PgvectorFilterRenderer(options.PayloadColumn, options.PayloadColumns.ToArray(), payloadIsJson);
        _payloadSelect = options.PayloadColumn is { } payload
            ? SqlIdentifier.Quote(payload, "payload column") + (payloadIsJson ? "::pg_catalog.jsonb" : "")
            : options.PayloadColumns.Count > 0
                ? "(SELECT pg_catalog.to_jsonb(p) FROM (SELECT " + string.Join(", ", options.PayloadColumns.Select(c => SqlIdentifier.Quote(c))) + ") AS p)"
                : "NULL::jsonb";

        PrefixType = options.PrefixStorage == PrefixStorage.Expression ? VectorType.HalfVec : options.PrefixVectorType;
        PrefixExpression = options.PrefixStorage == PrefixStorage.Column
            ? SqlIdentifier.Quote(options.ResolvedPrefixColumn, "prefix column")
            : string.Create(CultureInfo.InvariantCulture,
                $"(CAST({(layout.NormalizesPrefix ? _pgvector + ".l2_normalize" : "")}({_pgvector}.subvector({_vector}, 1, {layout.PrefixDimensions})) AS {_pgvector}.halfvec({layout.PrefixDimensions})))");

        // The prefix of a row that has none stored, computed as the migration's prefix function does.
        var head = string.Create(CultureInfo.InvariantCulture, $"{_pgvector}.subvector({_vector}, 1, {layout.PrefixDimensions})");
        // A projected key is the prefix function's own work: it reads the projection table.
        _computedPrefix = layout.Projection is not null
            ? SqlIdentifier.Quote(options.Schema) + "." + SqlIdentifier.Quote(options.PrefixFunctionName) + "(" + _vector + ")"
            : string.Create(CultureInfo.InvariantCulture,
                $"CAST({(layout.NormalizesPrefix ? $"{_pgvector}.l2_normalize({head})" : head)} AS {_pgvector}.{TypeName(PrefixType)}({layout.PrefixDimensions}))");

        var d = layout.FullDimensions;
        ScopeValue = options.ScopeColumn is null ? null : ScopeLiteral(options.ScopeValue!, scopeType ?? "text");
        var scope = new List<string>();
        if (undeclaredDimension)
        {
            // Rows of other sizes (another model's, in a table shared by several) are not this store's: every statement skips them.
            scope.Add(string.Create(CultureInfo.InvariantCulture, $"{_pgvector}.vector_dims({_vector}) = {d}"));
        }

        if (options.ScopeColumn is { } scopeColumn)
        {
            scope.Add($"{SqlIdentifier.Quote(scopeColumn, "scope column")} = {ScopeValue}");
        }

        _rowScope = scope.Count == 0 ? null : string.Join(" AND ", scope);
        (FullIndexExpression, FullIndexType) = undeclaredDimension
            ? ($"(CAST({_vector} AS {_pgvector}.{TypeName(d <= MaxVectorIndexDimensions ? fullType : VectorType.HalfVec)}({d.ToString(CultureInfo.InvariantCulture)})))",
               d <= MaxVectorIndexDimensions ? fullType : VectorType.HalfVec)
            : fullType == VectorType.HalfVec || d <= MaxVectorIndexDimensions
            ? (_vector, fullType)
            : ($"(CAST({_vector} AS {_pgvector}.halfvec({d.ToString(CultureInfo.InvariantCulture)})))", VectorType.HalfVec);
        Operator = layout.Metric switch
        {
            DistanceMetric.Cosine => $"OPERATOR({_pgvector}.<=>)",
            DistanceMetric.DotProduct => $"OPERATOR({_pgvector}.<#>)",
            DistanceMetric.Manhattan => $"OPERATOR({_pgvector}.<+>)",
            _ => $"OPERATOR({_pgvector}.<->)",
        };
    }

    public PgvectorStoreOptions Options { get; }

    /// <summary>The scope value as a typed SQL literal (a literal, not a parameter: COPY takes none, and a partial index matches only a constant).</summary>
    public string? ScopeValue { get; }

    /// <summary>
    /// <paramref name="value"/> as a literal of <paramref name="type"/>. The value is configuration, like an identifier, and is
    /// checked when the options are validated: control characters and backslashes are refused, quotes are doubled.
    /// </summary>
    internal static string ScopeLiteral(string value, string type)
    {
        if (value.Any(c => char.IsControl(c) || c == '\\'))
        {
            throw new ArgumentException($"The scope value '{value}' holds a control character or a backslash; use a plain value.", nameof(value));
        }

        if (!System.Text.RegularExpressions.Regex.IsMatch(type, "^[a-z0-9_]+$"))
        {
            throw new ArgumentException($"The scope column's type '{type}' is not a plain type name.", nameof(type));
        }

        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'::pg_catalog." + type;
    }

    /// <summary>The most rows without a prefix a search scans exactly beside pass 1.</summary>
    public const int RowsWithoutPrefixScanned = 10_000;

    /// <summary>
    /// Whether pass 1 also scans, exactly, rows of the layout's dimension whose prefix is still NULL (rows the backfill has not
    /// reached, or whose prefix could not be computed): true when the migration's partial index of those rows exists and is valid,
    /// so that finding them costs an index scan of a set that is empty once the backfill is done.
    /// </summary>
    public bool ScansRowsWithoutPrefix { get; init; }

    public EmbeddingLayout Layout { get; }

    public VectorType FullType { get; }

    public Version PgvectorVersion { get; }

    /// <summary>The schema pgvector was installed in, unquoted.</summary>
    public string PgvectorSchema { get; }

    /// <summary>Whether <c>hnsw.iterative_scan</c> exists (pgvector 0.8.0 and later).</summary>
    public bool SupportsIterativeScan => PgvectorVersion >= new Version(0, 8, 0);

    public VectorType PrefixType { get; }

    /// <summary>The prefix as the index sees it: the prefix column, or the exact expression the expression index was built on.</summary>
    public string PrefixExpression { get; }

    /// <summary>The full vector as a full-dimension index sees it: the column, or its cast to halfvec when it is too wide for a vector index.</summary>
    public string FullIndexExpression { get; }

    public VectorType FullIndexType { get; }

    /// <summary>The metric's distance operator, as <c>OPERATOR(schema.&lt;=&gt;)</c>.</summary>
    public string Operator { get; }

    /// <summary>Whether a full-dimension HNSW index can exist for this table at all.</summary>
    public bool FullDimensionsIndexable => Layout.FullDimensions <= MaxHalfvecIndexDimensions;

    /// <summary>Converts a pgvector distance to the library's score (higher is better).</summary>
    public float Score(double distance) => Layout.Metric == DistanceMetric.Cosine ? (float)(1 - distance) : (float)-distance;

    public static string OperatorClass(VectorType type, DistanceMetric metric) =>
        (type == VectorType.HalfVec ? "halfvec_" : "vector_") + metric switch
        {
            DistanceMetric.Cosine => "cosine_ops",
            DistanceMetric.DotProduct => "ip_ops",
            DistanceMetric.Manhattan => "l1_ops",
            _ => "l2_ops",
        };

    public static string TypeName(VectorType type) => type == VectorType.HalfVec ? "halfvec" : "vector";

    /// <summary>
    /// The type's schema-qualified name as Npgsql takes it for a parameter: an unqualified name is ambiguous to Npgsql as
    /// soon as another schema has a type of that name, and Npgsql refuses to guess.
    /// </summary>
    public string DataTypeName(VectorType type) => PgvectorSchema + "." + TypeName(type);

    /// <summary>Pass 1: <c>$1</c> is the prefix query, <c>$2</c> the limit; filter parameters follow.</summary>
    public string Pass1(Filter? filter, bool includeFullVectors, List<Npgsql.NpgsqlParameter> parameters) =>
        Candidates(d => $"{_key}, {d} AS distance, {(includeFullVectors ? _vectorWire : "NULL")}, {_payloadSelect}", "distance", filter, parameters);

    /// <summary>Pass 1 for a store with a full-vector cache: keys, distances, row versions (xmin) and payloads, no full vectors.</summary>
    public string Pass1WithVersions(Filter? filter, List<Npgsql.NpgsqlParameter> parameters) =>
        Candidates(d => $"{_key}, {d} AS distance, xmin::text::bigint, {_payloadSelect}", "distance", filter, parameters);

    /// <summary>Pass 1 that fills a cold cache: keys, distances, row versions, full vectors and payloads, in one query.</summary>
    public string Pass1WithVersionsAndVectors(Filter? filter, List<Npgsql.NpgsqlParameter> parameters) =>
        Candidates(d => $"{_key}, {d} AS distance, xmin::text::bigint, {_payloadSelect}, {_vectorWire}", "distance", filter, parameters);

    /// <summary>
    /// The <c>$2</c> rows nearest the prefix query <c>$1</c> with the <paramref name="columns"/> made from the prefix distance's
    /// expression, in which <paramref name="distance"/> names it: an index scan, merged when <see cref="ScansRowsWithoutPrefix"/> with an
    /// exact scan of at most <see cref="RowsWithoutPrefixScanned"/> rows that have no prefix yet, whose prefix is computed here.
    /// </summary>
    private string Candidates(Func<string, string> columns, string distance, Filter? filter, List<Npgsql.NpgsqlParameter> parameters)
    {
        var condition = Condition(filter, parameters);
        var indexed = $"SELECT {columns($"{PrefixExpression} {Operator} $1")} FROM {_table}" +
                      $"{(condition is null ? "" : " WHERE " + condition)} ORDER BY {PrefixExpression} {Operator} $1 LIMIT $2";
        if (!ScansRowsWithoutPrefix)
        {
            return indexed;
        }

        var d = Layout.FullDimensions.ToString(CultureInfo.InvariantCulture);
        var waiting = $"SELECT {columns($"{_computedPrefix} {Operator} $1")} FROM (" +
                      $"SELECT t.*, t.xmin FROM {_table} AS t WHERE {PrefixExpression} IS NULL AND {_pgvector}.vector_dims({_vector}) = {d}" +
                      $"{(condition is null ? "" : " AND " + condition)} ORDER BY {_key} LIMIT {RowsWithoutPrefixScanned.ToString(CultureInfo.InvariantCulture)}) AS t " +
                      $"ORDER BY {distance} LIMIT $2";
        return $"SELECT * FROM (({indexed}) UNION ALL ({waiting})) AS pass1 ORDER BY {distance} LIMIT $2";
    }

    /// <summary>The full vectors and row versions of the keys in <c>$1</c>: the cache's misses, in one round trip.</summary>
    public string FullVectorsByKey => $"SELECT {_key}, xmin::text::bigint, {_vectorWire} FROM {_table} WHERE {_key} = ANY($1){AndScope}";

    /// <summary>Every key, row version and full vector, streamed out in binary.</summary>
    public string CopyFullVectorsOut => $"COPY (SELECT {_key}, xmin::text::bigint, {_vector} FROM {_table}{(_rowScope is null ? "" : " WHERE " + _rowScope)}) TO STDOUT (FORMAT BINARY)";

    /// <summary>What the table is, physically: a TRUNCATE, VACUUM FULL or re-creation changes it.</summary>
    public const string TableIdentity =
        "SELECT pg_catalog.current_database()::text || ':' || c.oid::text || ':' || c.relfilenode::text FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)";

    /// <summary>Two-pass in SQL: <c>$1</c> prefix query, <c>$2</c> candidates, <c>$3</c> full query, <c>$4</c> k; filter parameters follow.</summary>
    public string TwoPassInDatabase(Filter? filter, List<Npgsql.NpgsqlParameter> parameters) =>
        $"SELECT candidates.k, candidates.v {Operator} $3 AS distance, NULL, candidates.p FROM (" +
        Candidates(d => $"{_key} AS k, {_vector} AS v, {_payloadSelect} AS p, {d} AS prefix_distance", "prefix_distance", filter, parameters) +
        ") AS candidates ORDER BY distance LIMIT $4";

    /// <summary>The single-pass baseline: <c>$1</c> full query (cast like the index), <c>$2</c> k; filter parameters follow.</summary>
    public string FullDimension(Filter? filter, List<Npgsql.NpgsqlParameter> parameters) =>
        $"SELECT {_key}, {FullIndexExpression} {Operator} $1 AS distance, NULL, {_payloadSelect} FROM {_table}{Where(filter, parameters)} " +
        $"ORDER BY {FullIndexExpression} {Operator} $1 LIMIT $2";

    public string Get => $"SELECT {_key}, {_vector}, {_payloadSelect} FROM {_table} WHERE {_key} = $1{AndScope}";

    public string Count(Filter? filter, List<Npgsql.NpgsqlParameter> parameters) => $"SELECT pg_catalog.count(*) FROM {_table}{Where(filter, parameters)}";

    /// <summary>
    /// The filtered scan: keys, full vectors (NULL unless <paramref name="includeVectors"/>) and payloads in the order of
    /// <paramref name="orderBy"/> then the key; <c>$1</c> limit, <c>$2</c> offset; filter and field parameters follow.
    /// </summary>
    public string Query(Filter? filter, IReadOnlyList<SortField> orderBy, bool includeVectors, List<Npgsql.NpgsqlParameter> parameters) =>
        $"SELECT {_key}, {(includeVectors ? _vector : "NULL")}, {_payloadSelect} FROM {_table}{Where(filter, parameters)} " +
        $"ORDER BY {_filters.RenderOrderBy(orderBy, parameters)}{_key} LIMIT $1 OFFSET $2";

    public string Delete => $"DELETE FROM {_table} WHERE {_key} = ANY($1){AndScope}";

    /// <summary>Upsert of one record: <c>$1</c> key, <c>$2</c> full vector, <c>$3</c> payload (jsonb).</summary>
    public string Upsert => UpsertFrom("$1", "$2", "$3", source: null);

    /// <summary>A temporary table shaped like the upsert's input, dropped at commit.</summary>
    public string CreateStagingTable =>
        $"CREATE TEMP TABLE mrl_staging ON COMMIT DROP AS SELECT {_key} AS k, {_vector} AS v, NULL::jsonb AS p FROM {_table} WITH NO DATA";

    public const string CopyIntoStaging = "COPY pg_temp.mrl_staging (k, v, p) FROM STDIN (FORMAT BINARY)";

    /// <summary>Merges the staging table into the table, with the same conflict handling as <see cref="Upsert"/>.</summary>
    public string MergeStaging => UpsertFrom("s.k", "s.v", "s.p", source: "pg_temp.mrl_staging AS s");

    private string UpsertFrom(string key, string vector, string payload, string? source)
    {
        string[] columns;
        string[] values;
        var sources = new List<string>();
        if (source is not null)
        {
            sources.Add(source);
        }

        if (Options.PayloadColumn is { } payloadColumn)
        {
            columns = [_key, _vector, SqlIdentifier.Quote(payloadColumn)];
            values = [key, vector, payload];
        }
        else
        {
            // jsonb_populate_record converts each payload field to its column's own type.
            var payloadColumns = Options.PayloadColumns.Select(c => SqlIdentifier.Quote(c)).ToArray();
            columns = [_key, _vector, .. payloadColumns];
            values = [key, vector, .. payloadColumns.Select(c => "r." + c)];
            if (payloadColumns.Length > 0)
            {
                sources.Add($"pg_catalog.jsonb_populate_record(NULL::{_table}, {payload}) AS r");
            }
        }

        var from = sources.Count == 0 ? "" : " FROM " + string.Join(", ", sources);
        var updates = columns.Skip(1).Select(c => $"{c} = EXCLUDED.{c}");
        if (Options.ScopeColumn is not { } scopeColumn)
        {
            return $"INSERT INTO {_table} ({string.Join(", ", columns)}) SELECT {string.Join(", ", values)}{from} " +
                   $"ON CONFLICT ({_key}) DO UPDATE SET {string.Join(", ", updates)}";
        }

        // A record is written into the store's scope, and never over a row of another scope with the same key.
        var scope = SqlIdentifier.Quote(scopeColumn, "scope column");
        return $"INSERT INTO {_table} ({string.Join(", ", columns)}, {scope}) SELECT {string.Join(", ", values)}, {ScopeValue}{from} " +
               $"ON CONFLICT ({_key}) DO UPDATE SET {string.Join(", ", updates)} WHERE {_table}.{scope} = {ScopeValue}";
    }

    private string Where(Filter? filter, List<Npgsql.NpgsqlParameter> parameters) =>
        Condition(filter, parameters) is { } condition ? " WHERE " + condition : "";

    /// <summary>The store's own rows (<see cref="_rowScope"/>) and the filter, or null when neither restricts anything.</summary>
    private string? Condition(Filter? filter, List<Npgsql.NpgsqlParameter> parameters)
    {
        var rendered = filter is null ? null : _filters.Render(filter, parameters);
        return (_rowScope, rendered) switch
        {
            (null, null) => null,
            (null, _) => rendered,
            (_, null) => _rowScope,
            _ => $"{_rowScope} AND ({rendered})",
        };
    }

    private string AndScope => _rowScope is null ? "" : " AND " + _rowScope;

    // Catalog queries, by qualified name.
    public const string RelationSize = "SELECT pg_catalog.pg_relation_size(pg_catalog.to_regclass($1))";

    public const string TableExists = "SELECT pg_catalog.to_regclass($1) IS NOT NULL";

    /// <summary>Tables of schema $1 with a <c>vector</c> or <c>halfvec</c> column named $2: the collections a store factory lists.</summary>
    public const string VectorTables =
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped " +
        "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid " +
        "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attname = $2 AND t.typname IN ('vector', 'halfvec') ORDER BY c.relname";

    public const string IndexValidity = "SELECT i.indisvalid FROM pg_catalog.pg_index i WHERE i.indexrelid = pg_catalog.to_regclass($1)";

    // Maintenance queries (PgvectorMaintenance), by qualified table name in $1.
    public const string BuildSettings =
        "SELECT pg_catalog.current_setting('max_parallel_maintenance_workers')::int, pg_catalog.current_setting('max_parallel_workers')::int, " +
        "pg_catalog.current_setting('max_worker_processes')::int, pg_catalog.current_setting('maintenance_work_mem'), " +
        "(SELECT o.option_value::int FROM pg_catalog.pg_class c, pg_catalog.pg_options_to_table(c.reloptions) o WHERE c.oid = pg_catalog.to_regclass($1) AND o.option_name = 'parallel_workers')";

    /// <summary>The index builds running on the table, with the parallel workers each leader has right now.</summary>
    public const string IndexBuildProgress =
        "SELECT coalesce(i.relname, ''), p.phase, p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total, " +
        "(SELECT pg_catalog.count(*)::int FROM pg_catalog.pg_stat_activity a WHERE a.leader_pid = p.pid AND a.pid <> p.pid) " +
        "FROM pg_catalog.pg_stat_progress_create_index p LEFT JOIN pg_catalog.pg_class i ON i.oid = p.index_relid WHERE p.relid = pg_catalog.to_regclass($1)";

    /// <summary>Heap and TOAST, without indexes.</summary>
    public const string TableSize = "SELECT coalesce(pg_catalog.pg_table_size(pg_catalog.to_regclass($1)), 0)";
}
