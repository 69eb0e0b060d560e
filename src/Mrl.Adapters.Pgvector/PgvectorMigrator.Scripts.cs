using System.Data;
using System.Globalization;

namespace Mrl.Adapters.Pgvector;

// Rendering the migration: which sql/pgvector scripts run, in what order, with what variables, for the layout, the table's state and the options.
public sealed partial class PgvectorMigrator
{
    private static string[] Display(IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> scripts) =>
        scripts.SelectMany(s => s.Script.Render(s.Variables)).Select(s => s.ToDisplayString()).ToArray();

    private bool FitsInline(VectorType type) =>
        type == VectorType.Vector ? _layout.FullDimensions <= 1_900 : _layout.FullDimensions <= 3_900;

    /// <summary>
    /// What every script of one run needs beyond the options: where pgvector is, the full column's type, the functions' comment,
    /// and the type of the scope column (the partial index's predicate names it, as the store's queries do).
    /// </summary>
    private sealed record ScriptContext(string VectorSchema, VectorType FullType, string FunctionComment, string ScopeType = "text");

    private ScriptContext Context(PgvectorTableState state, PgvectorPreflight preflight) =>
        new(state.VectorSchema, preflight.FullType, preflight.FunctionComment,
            _options.ScopeColumn is { } scope && state.Columns.TryGetValue(scope, out var column) ? column.Type : "text");

    /// <summary>Without a connection the scope column's type is unknown: the plan shows it as <c>text</c>.</summary>
    private ScriptContext Offline(string vectorSchema)
    {
        var state = new PgvectorTableState { VectorSchema = vectorSchema, PgvectorVersion = new Version(0, 8, 0) };
        return new ScriptContext(vectorSchema, _options.FullVectorType, new PgvectorPreflight(_options, _layout, state).FunctionComment);
    }

    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> UpScripts(PgvectorMigrationOptions migration, ScriptContext context, PgvectorTableState? state)
    {
        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            if (_layout.Projection is { } projection)
            {
                yield return Named("projection-table", Script("create_projection_table", context));
                var (store, storeVariables) = Script("store_projection", context);
                yield return ("store-projection", store, storeVariables.Value("directions",
                    string.Create(CultureInfo.InvariantCulture, $"<{projection.Rows} directions of {projection.Columns} values>")));
            }

            yield return Named("add-column", Script("add_prefix_column", context));
            yield return Named("trigger", Script("create_prefix_trigger", context));
            foreach (var step in IndexScripts(PendingIndex(), context, state))
            {
                yield return step;
            }

            var (backfill, variables) = Script("backfill_batch", context);
            yield return ("backfill", backfill, variables.Raw("batch_size", migration.BatchSize).Value("after", "<first key without a prefix>").Value("inclusive", true));
        }

        foreach (var step in IndexScripts(PrefixIndex(), context, state))
        {
            yield return step;
        }

        static (string, SqlScript, ScriptVariables) Named(string name, (SqlScript Script, ScriptVariables Variables) s) => (name, s.Script, s.Variables);
    }

    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> DownScripts(ScriptContext context, PgvectorTableState? state)
    {
        var partitioned = state?.IsPartitioned == true;
        var (dropIndex, indexVariables) = Script("drop_index", context);
        yield return ("drop-index", dropIndex, indexVariables.Raw("concurrently", partitioned ? "" : "CONCURRENTLY"));
        foreach (var partition in state?.Partitions ?? [])
        {
            // Left behind only by a run interrupted before it attached them; the parent's drop took the attached ones.
            var (drop, variables) = Script("drop_index", context);
            yield return ("drop-index", drop, variables.Identifier("schema", partition.Schema)
                .Identifier("index_name", _options.PartitionIndexName(partition.Name, _layout.PrefixDimensions)));
        }

        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            var (dropPending, pendingVariables) = Script("drop_index", context);
            yield return ("drop-pending-index", dropPending, pendingVariables.Identifier("index_name", _options.PendingIndexName(_options.Table))
                .Raw("concurrently", partitioned ? "" : "CONCURRENTLY"));
            foreach (var partition in state?.Partitions ?? [])
            {
                var (drop, variables) = Script("drop_index", context);
                yield return ("drop-pending-index", drop, variables.Identifier("schema", partition.Schema).Identifier("index_name", _options.PendingIndexName(partition.Name)));
            }

            var (trigger, triggerVariables) = Script("drop_prefix_trigger", context);
            yield return ("drop-trigger", trigger, triggerVariables);
            var (column, columnVariables) = Script("drop_prefix_column", context);
            yield return ("drop-column", column, columnVariables);
        }
    }

    /// <summary>One kind of index the migration builds: its script, operator class, and its name on the table or on one partition.</summary>
    private sealed record IndexKind(string Script, string OperatorClass, Func<string, string> NameFor, string Step = "index");

    private IndexKind PrefixIndex()
    {
        var prefixType = _options.PrefixStorage == PrefixStorage.Expression ? VectorType.HalfVec : _options.PrefixVectorType;
        var script = _options.PrefixStorage == PrefixStorage.Column ? "prefix_index" : "expression_index";
        return new IndexKind(_options.ScopeColumn is null ? "create_" + script : "create_scoped_" + script,
            PgvectorTable.OperatorClass(prefixType, _layout.Metric),
            table => table == _options.Table && _options.IndexName is { } name ? name : _options.PartitionIndexName(table, _layout.PrefixDimensions));
    }

    private IndexKind PendingIndex() => new("create_pending_index", "", _options.PendingIndexName, "pending-index");

    private IndexKind FullIndex(VectorType fullType)
    {
        var wide = fullType == VectorType.Vector && _layout.FullDimensions > PgvectorTable.MaxVectorIndexDimensions;
        return new IndexKind(wide ? "create_full_halfvec_index" : "create_full_index",
            PgvectorTable.OperatorClass(wide ? VectorType.HalfVec : fullType, _layout.Metric), _options.PartitionFullIndexName);
    }

    /// <summary>
    /// The statements that build one index: one concurrent build on a plain table; on a partitioned table one per partition,
    /// then the parent's index ON ONLY (a catalog entry, no build) and an attach per partition.
    /// </summary>
    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> IndexScripts(IndexKind kind, ScriptContext context, PgvectorTableState? state)
    {
        if (state?.IsPartitioned != true)
        {
            yield return (kind.Step, SqlScript.Load(kind.Script), IndexVariables(kind, context, _options.Schema, _options.Table, concurrently: true));
            yield break;
        }

        // A partition whose index is attached already (built by an earlier run, or by PostgreSQL for a partition added since) is done.
        var pending = state.Partitions.Where(p => !state.IsAttached(kind.NameFor(_options.Table), p)).ToArray();
        foreach (var partition in pending)
        {
            yield return (kind.Step, SqlScript.Load(kind.Script), IndexVariables(kind, context, partition.Schema, partition.Name, concurrently: true));
        }

        yield return ("parent-index", SqlScript.Load(kind.Script), IndexVariables(kind, context, _options.Schema, _options.Table, concurrently: false));
        foreach (var partition in pending)
        {
            var (attach, variables) = Script("attach_partition_index", context);
            yield return ("attach-index", attach, variables.Identifier("index_name", kind.NameFor(_options.Table))
                .Identifier("partition_schema", partition.Schema).Identifier("partition_index", kind.NameFor(partition.Name)));
        }
    }

    private ScriptVariables IndexVariables(IndexKind kind, ScriptContext context, string schema, string table, bool concurrently)
    {
        var (_, variables) = Script(kind.Script, context);
        variables.Identifier("schema", schema).Identifier("table", table).Identifier("index_name", kind.NameFor(table))
            .Raw("opclass", kind.OperatorClass).Raw("concurrently", concurrently ? "CONCURRENTLY" : "").Raw("only", concurrently ? "" : "ONLY");
        return variables;
    }

    /// <summary>A script with every variable the table's options and this run define.</summary>
    private (SqlScript Script, ScriptVariables Variables) Script(string name, ScriptContext context)
    {
        var prefixType = _options.PrefixStorage == PrefixStorage.Expression ? VectorType.HalfVec : _options.PrefixVectorType;
        var variables = new ScriptVariables()
            .Identifier("schema", _options.Schema)
            .Identifier("table", _options.Table)
            .Identifier("key_column", _options.KeyColumn)
            .Identifier("vector_column", _options.VectorColumn)
            .Identifier("prefix_column", _options.ResolvedPrefixColumn)
            .Identifier("index_name", _options.ResolvedIndexName(_layout.PrefixDimensions))
            .Identifier("trigger_name", _options.TriggerName)
            .Identifier("function_name", _options.TriggerName)
            .Identifier("prefix_function", _options.PrefixFunctionName)
            .Identifier("vector_schema", context.VectorSchema)
            .Raw("full_type", PgvectorTable.TypeName(context.FullType))
            .Raw("prefix_type", PgvectorTable.TypeName(prefixType))
            .Raw("prefix_dims", _layout.PrefixDimensions)
            .Function("normalize_fn", context.VectorSchema, _layout.NormalizesPrefix ? "l2_normalize" : null)
            .Raw("opclass", PgvectorTable.OperatorClass(prefixType, _layout.Metric))
            .Raw("m", _options.HnswM)
            .Raw("ef_construction", _options.HnswEfConstruction)
            .Raw("full_dims", _layout.FullDimensions)
            .Raw("concurrently", "CONCURRENTLY")
            .Raw("only", "")
            .Raw("projection_storage", FitsInline(VectorType.Vector) ? "PLAIN" : "EXTERNAL");
        if (_options.ScopeColumn is { } scopeColumn)
        {
            variables.Identifier("scope_column", scopeColumn).Literal("scope_value", _options.ScopeValue!).Raw("scope_type", context.ScopeType);
        }

        // The trigger script passes these as settings (psql does not expand variables inside dollar quotes).
        variables.Value("schema", _options.Schema).Value("table", _options.Table).Value("vector_column", _options.VectorColumn)
            .Value("vector_schema", context.VectorSchema).Value("full_type", PgvectorTable.TypeName(context.FullType))
            .Value("full_dims", _layout.FullDimensions.ToString(CultureInfo.InvariantCulture))
            .Value("prefix_column", _options.ResolvedPrefixColumn).Value("prefix_type", PgvectorTable.TypeName(prefixType))
            .Value("prefix_dims", _layout.PrefixDimensions.ToString(CultureInfo.InvariantCulture))
            .Value("normalize", _layout.NormalizesPrefix ? "true" : "false")
            .Value("function_name", _options.TriggerName).Value("prefix_function", _options.PrefixFunctionName)
            .Value("trigger_name", _options.TriggerName).Value("function_comment", context.FunctionComment)
            .Value("projection_table", _layout.Projection is null ? "" : _options.ProjectionTableName)
            .Value("projection_version", (_layout.Projection?.Version ?? 0).ToString(CultureInfo.InvariantCulture))
            .Identifier("projection_table", _options.ProjectionTableName);
        return (SqlScript.Load(name), variables);
    }

    /// <summary>The projection's rows as pgvector literals, in key order, for store_projection.sql.</summary>
    private static string[] DirectionLiterals(PrefixProjection projection)
    {
        var literals = new string[projection.Rows];
        for (var i = 0; i < projection.Rows; i++)
        {
            var row = projection.Row(i);
            var text = new System.Text.StringBuilder(row.Length * 12).Append('[');
            for (var j = 0; j < row.Length; j++)
            {
                text.Append(j == 0 ? "" : ",").Append(row[j].ToString("R", CultureInfo.InvariantCulture));
            }

            literals[i] = text.Append(']').ToString();
        }

        return literals;
    }
}
