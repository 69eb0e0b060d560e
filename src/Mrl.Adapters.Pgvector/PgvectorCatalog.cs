namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Catalog queries that tell what is in the database before anything is changed: where pgvector lives, what a table is, and
/// which of the objects a migration creates already exist. Tables are passed by qualified name in <c>$1</c>.
/// </summary>
internal static class PgvectorCatalog
{
    /// <summary>pgvector's version and the schema it was installed in; no row when the extension is missing.</summary>
    public const string Extension =
        "SELECT e.extversion, n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'";

    /// <summary>The relation <c>$1</c>.<c>$2</c>, named exactly: oid, kind, owner, whether the current role may alter it.</summary>
    public const string Relation =
        "SELECT c.relkind::text, pg_catalog.pg_get_userbyid(c.relowner), pg_catalog.pg_has_role(c.relowner, 'USAGE') " +
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2";

    /// <summary>Tables whose schema and name match <c>$1</c>.<c>$2</c> but for case: what the user probably meant.</summary>
    public const string SimilarTables =
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE lower(n.nspname) = lower($1) AND lower(c.relname) = lower($2) AND c.relkind IN ('r', 'p') ORDER BY 1, 2 LIMIT 5";

    /// <summary>The columns of <c>$1</c> (qualified name), with their type, the type's schema and the type modifier.</summary>
    public const string Columns =
        "SELECT a.attname, t.typname, tn.nspname, a.atttypmod FROM pg_catalog.pg_attribute a " +
        "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace " +
        "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

    /// <summary>The direct partitions of <c>$1</c>: schema, name, kind (<c>p</c> for a partition that is partitioned itself).</summary>
    public const string Partitions =
        "SELECT n.nspname, c.relname, c.relkind::text FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid " +
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = to_regclass($1) ORDER BY 1, 2";

    /// <summary>The user triggers of <c>$1</c> (not the clones on its partitions): name, its function's schema, name and comment.</summary>
    public const string Triggers =
        "SELECT t.tgname, pn.nspname, p.proname, coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') " +
        "FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace " +
        "WHERE t.tgrelid = to_regclass($1) AND NOT t.tgisinternal AND t.tgparentid = 0";

    /// <summary>Functions in schema <c>$1</c> named in <c>$2</c>: name, comment, whether the current role owns them.</summary>
    public const string Functions =
        "SELECT p.proname, coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), ''), pg_catalog.pg_has_role(p.proowner, 'USAGE') " +
        "FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = ANY($2)";

    /// <summary>
    /// Indexes in schema <c>$1</c> named in <c>$2</c>: name, the schema and name of their table, valid, access method, reloptions,
    /// first key column (NULL for an expression), first operator class, size, kind (<c>I</c> for the index of a partitioned table).
    /// </summary>
    public const string Indexes =
        "SELECT c.relname, tn.nspname, t.relname, i.indisvalid, am.amname, coalesce(array_to_string(c.reloptions, ','), ''), " +
        "(SELECT a.attname FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]), " +
        "(SELECT o.opcname FROM pg_catalog.pg_opclass o WHERE o.oid = i.indclass[0]), pg_catalog.pg_relation_size(c.oid), c.relkind::text " +
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid " +
        "JOIN pg_catalog.pg_am am ON am.oid = c.relam JOIN pg_catalog.pg_class t ON t.oid = i.indrelid " +
        "JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2)";

    /// <summary>Views and materialized views that use column <c>$2</c> of <c>$1</c>, by qualified name.</summary>
    public const string DependentViews =
        "SELECT DISTINCT format('%I.%I', vn.nspname, v.relname) FROM pg_catalog.pg_depend d " +
        "JOIN pg_catalog.pg_rewrite r ON r.oid = d.objid JOIN pg_catalog.pg_class v ON v.oid = r.ev_class " +
        "JOIN pg_catalog.pg_namespace vn ON vn.oid = v.relnamespace " +
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid " +
        "WHERE d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.refobjid = to_regclass($1) AND a.attname = $2 AND v.oid <> d.refobjid ORDER BY 1";

    /// <summary>
    /// How many of the first <paramref name="sampleRows"/> vectors have each dimension: what a column without a declared dimension holds.
    /// With <paramref name="scopeColumn"/>, only the rows of one collection, whose value (as text) is <c>$1</c>.
    /// </summary>
    public static string DimensionSample(string qualifiedTable, string vectorColumn, string vectorSchema, int sampleRows, string? scopeColumn = null) =>
        $"SELECT {SqlIdentifier.Quote(vectorSchema)}.vector_dims(s.v), count(*) FROM (SELECT {SqlIdentifier.Quote(vectorColumn)} AS v FROM {qualifiedTable} " +
        $"WHERE {SqlIdentifier.Quote(vectorColumn)} IS NOT NULL{(scopeColumn is null ? "" : $" AND {SqlIdentifier.Quote(scopeColumn)}::pg_catalog.text = $1")} " +
        $"LIMIT {sampleRows.ToString(System.Globalization.CultureInfo.InvariantCulture)}) AS s GROUP BY 1 ORDER BY 2 DESC, 1";

    /// <summary>Rows of the layout's dimension still without a prefix, and rows in all: a full scan, for status reports.</summary>
    public static string PrefixCoverage(string qualifiedTable, string vectorColumn, string prefixColumn, string vectorSchema, int fullDimensions) =>
        $"SELECT count(*) FILTER (WHERE {SqlIdentifier.Quote(prefixColumn)} IS NULL AND {SqlIdentifier.Quote(vectorSchema)}.vector_dims({SqlIdentifier.Quote(vectorColumn)}) = " +
        $"{fullDimensions.ToString(System.Globalization.CultureInfo.InvariantCulture)}), count(*) FROM {qualifiedTable}";

    /// <summary>The partitions (schema, name) whose index is attached to the partitioned index <c>$1</c> (qualified name).</summary>
    public const string AttachedPartitions =
        "SELECT tn.nspname, t.relname FROM pg_catalog.pg_inherits h JOIN pg_catalog.pg_index x ON x.indexrelid = h.inhrelid " +
        "JOIN pg_catalog.pg_class t ON t.oid = x.indrelid JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace WHERE h.inhparent = to_regclass($1)";

    /// <summary>
    /// Whether table <c>$1</c> has a valid HNSW index on its prefix: on column <c>$2</c> (column mode), or named <c>$3</c> (the
    /// expression index). NULL when it has none at all, false when the only ones are not valid yet.
    /// </summary>
    public const string PrefixIndexes =
        "SELECT bool_or(i.indisvalid) FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid " +
        "JOIN pg_catalog.pg_am am ON am.oid = c.relam WHERE i.indrelid = pg_catalog.to_regclass($1) AND am.amname = 'hnsw' " +
        "AND (i.indkey[0] = (SELECT a.attnum FROM pg_catalog.pg_attribute a WHERE a.attrelid = i.indrelid AND a.attname = $2) OR c.relname = $3)";

    /// <summary>The comment of function <c>$2</c> in schema <c>$1</c> (the prefix function names the projection version it computes with); no row when it does not exist.</summary>
    public const string FunctionComment =
        "SELECT coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), '') FROM pg_catalog.pg_proc p " +
        "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2";

    /// <summary>The predicate of the partial index <c>$1</c> (qualified name), as PostgreSQL prints it; NULL for an index of every row.</summary>
    public const string IndexPredicate =
        "SELECT pg_catalog.pg_get_expr(i.indpred, i.indrelid) FROM pg_catalog.pg_index i WHERE i.indexrelid = pg_catalog.to_regclass($1)";

    /// <summary>Whether the relation <c>$1</c> (qualified name) exists.</summary>
    public const string RelationExists = "SELECT pg_catalog.to_regclass($1) IS NOT NULL";

    /// <summary>The planner's estimate of the rows of <c>$1</c>; -1 or 0 when it was never analyzed.</summary>
    public const string EstimatedRows = "SELECT c.reltuples FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)";

    /// <summary>The directions of version <c>$1</c> of a projection table, in key order, as arrays.</summary>
    public static string ProjectionDirections(string qualifiedProjectionTable) =>
        $"SELECT CAST(d.direction AS pg_catalog.float4[]) FROM {qualifiedProjectionTable} AS d WHERE d.version = $1 ORDER BY d.i";

    /// <summary>The versions stored in a projection table, in order.</summary>
    public static string ProjectionVersions(string qualifiedProjectionTable) => $"SELECT DISTINCT d.version FROM {qualifiedProjectionTable} AS d ORDER BY 1";

    /// <summary>The highest version stored in a projection table, or NULL.</summary>
    public static string LatestProjectionVersion(string qualifiedProjectionTable) => $"SELECT max(d.version) FROM {qualifiedProjectionTable} AS d";

    /// <summary>
    /// Up to <c>$3</c> vectors of <paramref name="fullDimensions"/> dimensions, a Bernoulli sample of <c>$1</c> percent of the rows
    /// (seeded by <c>$2</c>, so a rerun reads the same rows), as arrays; with <paramref name="scopeColumn"/> of one collection (<c>$4</c>).
    /// </summary>
    public static string VectorSample(string qualifiedTable, string vectorColumn, string vectorSchema, int fullDimensions, string? scopeColumn) =>
        $"SELECT CAST(s.v AS pg_catalog.float4[]) FROM (SELECT {SqlIdentifier.Quote(vectorColumn)} AS v FROM {qualifiedTable} TABLESAMPLE BERNOULLI ($1) REPEATABLE ($2) " +
        $"WHERE {SqlIdentifier.Quote(vectorColumn)} IS NOT NULL AND {SqlIdentifier.Quote(vectorSchema)}.vector_dims({SqlIdentifier.Quote(vectorColumn)}) = " +
        $"{fullDimensions.ToString(System.Globalization.CultureInfo.InvariantCulture)}{(scopeColumn is null ? "" : $" AND {SqlIdentifier.Quote(scopeColumn)}::pg_catalog.text = $4")}) AS s LIMIT $3";
}
