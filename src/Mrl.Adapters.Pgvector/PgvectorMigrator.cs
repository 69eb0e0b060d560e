using System.Data;
using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Diagnostics;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// Adds a Matryoshka prefix to an existing table in place, without downtime, and takes it away again. Every statement comes
/// from the psql scripts in <c>sql/pgvector/</c>. Each step is idempotent, so re-running after a crash at any point finishes the job.
/// </summary>
/// <remarks>
/// Column mode: add a nullable prefix column (no rewrite), a trigger that keeps it filled on INSERT and on UPDATE of the
/// vector, a resumable backfill in key order, then <c>CREATE INDEX CONCURRENTLY</c>. Expression mode: the concurrent
/// expression index alone. DDL waits at most <see cref="PgvectorMigrationOptions.LockTimeout"/> for its lock and retries,
/// so that application queries never queue behind it for long.
/// </remarks>
public sealed class PgvectorMigrator
{
    private const string LockNotAvailable = "55P03";
    private readonly NpgsqlDataSource _dataSource;
    private readonly EmbeddingLayout _layout;
    private readonly PgvectorStoreOptions _options;

    /// <summary>Creates a migrator for the table the store options name.</summary>
    public PgvectorMigrator(NpgsqlDataSource dataSource, EmbeddingLayout layout, PgvectorStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _dataSource = dataSource;
        _layout = layout;
        _options = options;
    }

    /// <summary>
    /// Reads the number of dimensions of the table's full-vector column, for a migration that was not told it: the declared
    /// dimension, or for a column that declares none the one dimension found in a sample of its rows.
    /// </summary>
    /// <exception cref="PgvectorMigrationException">The table or column does not exist, or the column holds vectors of several sizes.</exception>
    public static async Task<int> ReadFullDimensionsAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Any layout will do: the names the state looks up do not depend on the dimensions, and the preflight is told not to check them.
        var anyLayout = new EmbeddingLayout(2, 1);
        var state = await PgvectorTableState.ReadAsync(connection, options, anyLayout, cancellationToken).ConfigureAwait(false);
        var table = SqlIdentifier.Qualified(options.Schema, options.Table);
        var problems = new PgvectorPreflight(options, anyLayout, state).CheckTableAndColumns();
        if (problems.Count > 0)
        {
            throw new PgvectorMigrationException(table, problems);
        }

        var column = state.Columns[options.VectorColumn];
        if (column.Modifier > 0)
        {
            return column.Modifier;
        }

        return state.DimensionSample switch
        {
            { Count: 1 } sample => sample.Keys.Single(),
            { Count: 0 } or null => throw new PgvectorMigrationException(table,
                [$"Column '{options.VectorColumn}' declares no dimension and holds no vectors to read one from. Pass --dims."]),
            var sample => throw new PgvectorMigrationException(table,
                [$"Column '{options.VectorColumn}' declares no dimension and holds vectors of several sizes (" +
                 string.Join(", ", sample.Select(d => string.Create(CultureInfo.InvariantCulture, $"{d.Key}: {d.Value} rows"))) +
                 $" in the first {PgvectorTableState.DimensionSampleRows.ToString(CultureInfo.InvariantCulture)}). Pass --dims with the size of the model this prefix is for."]),
        };
    }

    /// <summary>
    /// The statements <see cref="UpAsync(PgvectorMigrationOptions?, IProgress{MigrationProgress}?, CancellationToken)"/> would run, as psql
    /// would show them (the backfill as one batch), worked out without a connection: pgvector is assumed to be in
    /// <paramref name="vectorSchema"/>, and a partitioned table is not recognized. <see cref="PreflightAsync"/> checks the real table.
    /// </summary>
    public IReadOnlyList<string> PlanUp(PgvectorMigrationOptions? migration = null, string vectorSchema = "public") =>
        Display(UpScripts(migration ?? new PgvectorMigrationOptions(), Offline(vectorSchema), state: null));

    /// <summary>The statements <see cref="DownAsync"/> would run, worked out without a connection (see <see cref="PlanUp"/>).</summary>
    public IReadOnlyList<string> PlanDown(string vectorSchema = "public") => Display(DownScripts(Offline(vectorSchema), state: null));

    /// <summary>
    /// Reads the table and every object the migration would touch, read-only, and says whether the migration (or with
    /// <paramref name="down"/> its removal) can run, what it would notice, and the statements it would run.
    /// </summary>
    public async Task<PgvectorMigrationPlan> PreflightAsync(bool down = false, PgvectorMigrationOptions? migration = null, CancellationToken cancellationToken = default)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        await using var connection = await OpenReadOnlyAsync(cancellationToken).ConfigureAwait(false);
        var state = await PgvectorTableState.ReadAsync(connection, _options, _layout, cancellationToken).ConfigureAwait(false);
        return Plan(state, down, migration);
    }

    private PgvectorMigrationPlan Plan(PgvectorTableState state, bool down, PgvectorMigrationOptions migration)
    {
        var preflight = new PgvectorPreflight(_options, _layout, state);
        var result = down ? preflight.CheckDown() : preflight.CheckUp();
        var context = Context(state, preflight);
        var statements = result.Problems.Count > 0 ? [] : Display(down ? DownScripts(context, state) : UpScripts(migration, context, state));
        return new PgvectorMigrationPlan(result.Problems, result.Notes, statements, !down && result.PrefixInPlace && result.IndexesInPlace);
    }

    private async Task<NpgsqlConnection> OpenReadOnlyAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var readOnly = new NpgsqlCommand("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", connection);
        await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    /// <summary>Adds the prefix: column, trigger, backfill and concurrent index (column mode), or the expression index.</summary>
    /// <returns>What was done; <see cref="PgvectorMigrationResult.Changed"/> is false when the table was already migrated with these parameters.</returns>
    /// <exception cref="PgvectorMigrationException">
    /// The preflight found a problem (nothing was changed), or a step failed for a reason other than a lock timeout (re-running resumes).
    /// </exception>
    public Task<PgvectorMigrationResult> UpAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        UpAsync(migration, progress, buildIndex: true, cancellationToken);

    /// <summary>Builds the prefix HNSW index (and, with <see cref="PgvectorStoreOptions.CreateFullDimensionIndex"/>, the full-dimension one), repairing an INVALID leftover; reports each build's time and size.</summary>
    /// <exception cref="PgvectorMigrationException">The preflight found a problem, or a build failed.</exception>
    public async Task<IReadOnlyList<IndexBuild>> BuildIndexesAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        var state = await PgvectorTableState.ReadAsync(connection, _options, _layout, cancellationToken).ConfigureAwait(false);
        var preflight = new PgvectorPreflight(_options, _layout, state);
        ThrowIfProblems(preflight.CheckUp());
        return await BuildIndexesAsync(connection, Context(state, preflight), state, migration, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Column mode: adds the prefix column and its trigger, and backfills it, but builds no index (see <see cref="BuildIndexesAsync(PgvectorMigrationOptions?, IProgress{MigrationProgress}?, CancellationToken)"/>);
    /// expression mode: nothing. For loading or comparing several prefixes before building each index once.
    /// </summary>
    internal Task<PgvectorMigrationResult> AddPrefixWithoutIndexAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        UpAsync(migration, progress, buildIndex: false, cancellationToken);

    /// <summary>
    /// What the migration has put on the table so far: the prefix column, its trigger, the index's validity and size, the rows
    /// still without a prefix, and whether running the migration with these parameters would change anything. Reads only;
    /// counting the rows scans the table.
    /// </summary>
    public async Task<PgvectorMigrationStatus> StatusAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReadOnlyAsync(cancellationToken).ConfigureAwait(false);
        var state = await PgvectorTableState.ReadAsync(connection, _options, _layout, cancellationToken).ConfigureAwait(false);
        var plan = Plan(state, down: false, new PgvectorMigrationOptions());
        var table = SqlIdentifier.Qualified(_options.Schema, _options.Table);
        if (!state.Exists)
        {
            return new PgvectorMigrationStatus(table, false, null, false, null, null, 0, null, null, plan);
        }

        var column = _options.PrefixStorage == PrefixStorage.Column && state.Columns.TryGetValue(_options.ResolvedPrefixColumn, out var prefix)
            ? (prefix.Modifier > 0 ? string.Create(CultureInfo.InvariantCulture, $"{_options.ResolvedPrefixColumn} {prefix.Type}({prefix.Modifier})") : _options.ResolvedPrefixColumn + " " + prefix.Type)
            : null;
        var trigger = state.Triggers.Any(t => t.Name == _options.TriggerName);
        var index = state.Index(_options.Schema, _options.ResolvedIndexName(_layout.PrefixDimensions));
        var partitionIndexes = state.Partitions.Select(p => state.Index(p.Schema, _options.PartitionIndexName(p.Name, _layout.PrefixDimensions))).ToArray();
        bool? valid = index is null ? null : index.Valid && partitionIndexes.All(i => i?.Valid == true);
        long? size = index is null ? null : index.SizeBytes + partitionIndexes.Sum(i => i?.SizeBytes ?? 0);
        long? withoutPrefix = null;
        long? rows = null;
        if (column is not null && state.Columns.TryGetValue(_options.VectorColumn, out var vector) && vector.Type is "vector" or "halfvec")
        {
            await using var count = new NpgsqlCommand(PgvectorCatalog.PrefixCoverage(table, _options.VectorColumn, _options.ResolvedPrefixColumn, state.VectorSchema, _layout.FullDimensions), connection)
            {
                CommandTimeout = 0,
            };
            await using var reader = await count.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            withoutPrefix = reader.GetInt64(0);
            rows = reader.GetInt64(1);
        }

        return new PgvectorMigrationStatus(table, true, column, trigger, valid, size, state.Partitions.Count, withoutPrefix, rows, plan);
    }

    private async Task<PgvectorMigrationResult> UpAsync(PgvectorMigrationOptions? migration, IProgress<MigrationProgress>? progress, bool buildIndex, CancellationToken cancellationToken)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        var state = await PgvectorTableState.ReadAsync(connection, _options, _layout, cancellationToken).ConfigureAwait(false);
        var preflight = new PgvectorPreflight(_options, _layout, state);
        var checks = preflight.CheckUp();
        ThrowIfProblems(checks);
        foreach (var note in checks.Notes)
        {
            progress?.Report(new MigrationProgress("preflight", 1, 1, note));
        }

        var context = Context(state, preflight);
        var changed = false;
        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            if (!checks.PrefixInPlace)
            {
                if (_layout.Projection is { } projection)
                {
                    await RunStepAsync(connection, "projection-table", Script("create_projection_table", context), migration, progress, cancellationToken).ConfigureAwait(false);
                    var (store, variables) = Script("store_projection", context);
                    await RunStepAsync(connection, "store-projection", (store, variables.Value("directions", DirectionLiterals(projection))), migration, progress, cancellationToken).ConfigureAwait(false);
                }

                await RunStepAsync(connection, "add-column", Script("add_prefix_column", context), migration, progress, cancellationToken).ConfigureAwait(false);
                await RunStepAsync(connection, "trigger", Script("create_prefix_trigger", context), migration, progress, cancellationToken).ConfigureAwait(false);
                await BuildIndexAsync(connection, PendingIndex(), context, state, migration, progress, cancellationToken).ConfigureAwait(false);
                changed = true;
            }

            changed |= await BackfillAsync(connection, context, migration, progress, cancellationToken).ConfigureAwait(false) > 0;
        }

        if (buildIndex && !checks.IndexesInPlace)
        {
            // The backfill may have lost this session to a terminated backend and carried on with another: build on a live one.
            if (connection.State == ConnectionState.Open)
            {
                await BuildIndexesAsync(connection, context, state, migration, progress, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await using var fresh = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
                await BuildIndexesAsync(fresh, context, state, migration, progress, cancellationToken).ConfigureAwait(false);
            }

            changed = true;
        }

        return new PgvectorMigrationResult(changed, checks.Notes);
    }

    /// <summary>Removes what <see cref="UpAsync(PgvectorMigrationOptions?, IProgress{MigrationProgress}?, CancellationToken)"/> added: the index, and in column mode the trigger, its functions and the column.</summary>
    /// <returns>What was done; <see cref="PgvectorMigrationResult.Changed"/> is false when there was nothing to remove.</returns>
    /// <exception cref="PgvectorMigrationException">The preflight found a problem (a view uses the prefix column, say): nothing was changed.</exception>
    public async Task<PgvectorMigrationResult> DownAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        var state = await PgvectorTableState.ReadAsync(connection, _options, _layout, cancellationToken).ConfigureAwait(false);
        var preflight = new PgvectorPreflight(_options, _layout, state);
        var checks = preflight.CheckDown();
        ThrowIfProblems(checks);
        var present = state.Columns.ContainsKey(_options.ResolvedPrefixColumn) || state.Triggers.Any(t => t.Name == _options.TriggerName)
            || state.Functions.Count > 0 || state.Indexes.Values.Any(i => i.Table == _options.Table || state.Partitions.Any(p => p.Name == i.Table));
        foreach (var (name, script, variables) in DownScripts(Context(state, preflight), state))
        {
            await RunStepAsync(connection, name, (script, variables), migration, progress, cancellationToken).ConfigureAwait(false);
        }

        return new PgvectorMigrationResult(present, checks.Notes);
    }

    /// <summary>Creates the table a managed store uses, then its prefix and index, on an empty table.</summary>
    internal async Task CreateManagedTableAsync(string keyType, CancellationToken cancellationToken)
    {
        var migration = new PgvectorMigrationOptions();
        await using (var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false))
        {
            var context = Offline("public");
            await RunStepAsync(connection, "extension", Script("create_extension", context), migration, null, cancellationToken).ConfigureAwait(false);
            var (_, vectorSchema) = await PgvectorTableState.ReadExtensionAsync(connection, cancellationToken).ConfigureAwait(false);
            var (script, variables) = Script("create_table", Offline(vectorSchema));
            variables.Raw("key_type", keyType).Raw("storage", FitsInline(_options.FullVectorType) ? "PLAIN" : "EXTERNAL")
                .Raw("full_type", PgvectorTable.TypeName(_options.FullVectorType))
                .Identifier("payload_column", _options.PayloadColumn ?? "payload");
            await RunStepAsync(connection, "create-table", (script, variables), migration, null, cancellationToken).ConfigureAwait(false);
        }

        await UpAsync(migration, null, buildIndex: !_options.DeferIndexes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the table, its indexes, its prefix trigger and the trigger's functions.</summary>
    internal async Task DropTableAsync(CancellationToken cancellationToken)
    {
        var migration = new PgvectorMigrationOptions();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        var state = await PgvectorTableState.ReadAsync(connection, _options, _layout, cancellationToken).ConfigureAwait(false);
        var context = Context(state, new PgvectorPreflight(_options, _layout, state));
        await RunStepAsync(connection, "drop-table", Script("drop_table", context), migration, null, cancellationToken).ConfigureAwait(false);
        await RunStepAsync(connection, "drop-function", Script("drop_prefix_function", context), migration, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the preflight as a step of its own, failed when it found problems, and stops the migration then.</summary>
    private void ThrowIfProblems(PreflightResult result)
    {
        using var activity = StartStep("preflight");
        if (result.Problems.Count > 0)
        {
            var refusal = new PgvectorMigrationException(SqlIdentifier.Qualified(_options.Schema, _options.Table), result.Problems);
            StoreTelemetry.SetError(activity, refusal);
            throw refusal;
        }
    }

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
            .Raw("only", "");
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

    private async Task<NpgsqlConnection> OpenAsync(PgvectorMigrationOptions migration, CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT set_config('lock_timeout', $1, false)", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ((long)migration.LockTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms" });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        if (migration.MaintenanceWorkMem is { } memory)
        {
            await using var setting = new NpgsqlCommand("SELECT set_config('maintenance_work_mem', $1, false)", connection);
            setting.Parameters.Add(new NpgsqlParameter<string> { TypedValue = memory });
            await setting.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return connection;
    }

    private async Task RunStepAsync(
        NpgsqlConnection connection, string step, (SqlScript Script, ScriptVariables Variables) script, PgvectorMigrationOptions migration,
        IProgress<MigrationProgress>? progress, CancellationToken cancellationToken, int commandTimeoutSeconds = 300)
    {
        using var activity = StartStep(step);
        var started = Stopwatch.GetTimestamp();
        try
        {
            foreach (var statement in script.Script.Render(script.Variables))
            {
                await WithLockRetriesAsync(migration, step, progress, async () =>
                {
                    await using var command = new NpgsqlCommand(statement.Text, connection) { CommandTimeout = commandTimeoutSeconds };
                    foreach (var value in statement.Parameters)
                    {
                        command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
                    }

                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException e)
        {
            StoreTelemetry.SetError(activity, e);
            throw Explain(e, step, migration);
        }
        catch (Exception e)
        {
            StoreTelemetry.SetError(activity, e);
            throw;
        }

        progress?.Report(new MigrationProgress(step, 1, 1,
            string.Create(CultureInfo.InvariantCulture, $"{step}: done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s")));
    }

    private static async Task WithLockRetriesAsync(
        PgvectorMigrationOptions migration, string step, IProgress<MigrationProgress>? progress, Func<Task> action, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (PostgresException e) when (e.SqlState == LockNotAvailable && attempt < migration.LockRetries)
            {
                var delay = TimeSpan.FromMilliseconds(Math.Min(5_000, 100 * (1 << Math.Min(attempt, 6))));
                progress?.Report(new MigrationProgress(step, 0, 1,
                    string.Create(CultureInfo.InvariantCulture, $"{step}: lock not granted within {migration.LockTimeout.TotalMilliseconds} ms, retry {attempt + 1} in {delay.TotalMilliseconds} ms")));
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Activity? StartStep(string step) => StoreTelemetry.StartMigrationStep(PgvectorAdaptiveStore<long>.SystemName, _options.Table, step);

    /// <summary>Fills the prefix of every row of the layout's dimension that has none; returns how many it filled.</summary>
    private async Task<long> BackfillAsync(
        NpgsqlConnection connection, ScriptContext context, PgvectorMigrationOptions migration, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        using var activity = StartStep("backfill");
        object? after;
        long total;
        var (startScript, startVariables) = Script("backfill_start", context);
        await using (var start = new NpgsqlCommand(startScript.Render(startVariables).Single().Text, connection) { CommandTimeout = 0 })
        await using (var reader = await start.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            after = reader.IsDBNull(0) ? null : reader.GetValue(0);
            total = reader.GetInt64(1);
        }

        if (after is null)
        {
            progress?.Report(new MigrationProgress("backfill", 0, 0, "backfill: every row already has its prefix"));
            return 0;
        }

        var (script, variables) = Script("backfill_batch", context);
        variables.Raw("batch_size", migration.BatchSize);
        var inclusive = true;
        long done = 0;
        var started = Stopwatch.GetTimestamp();

        // Each batch is one statement that fills only prefixes still NULL: idempotent, so a batch that failed with a transient
        // error runs again on a fresh connection (the migration's own is gone when its backend was terminated).
        var retry = new PgvectorRetry(PgvectorRetry.FromOptions(_options, notice =>
        {
            progress?.Report(new MigrationProgress("backfill", Math.Min(done, total), total, notice.ToString()));
            return default;
        }), _dataSource);
        NpgsqlConnection? reopened = null;
        try
        {
            while (after is not null)
            {
                variables.Value("after", after).Value("inclusive", inclusive);
                var statement = script.Render(variables).Single();
                object? last = null;
                await retry.ExecuteAsync("backfill", async ct =>
                {
                    var current = reopened ?? connection;
                    if (current.State != ConnectionState.Open)
                    {
                        if (reopened is not null)
                        {
                            await reopened.DisposeAsync().ConfigureAwait(false);
                        }

                        current = reopened = await OpenAsync(migration, ct).ConfigureAwait(false);
                    }

                    await WithLockRetriesAsync(migration, "backfill", progress, async () =>
                    {
                        await using var command = new NpgsqlCommand(statement.Text, current) { CommandTimeout = 300 };
                        foreach (var value in statement.Parameters)
                        {
                            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
                        }

                        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                        await reader.ReadAsync(ct).ConfigureAwait(false);
                        last = reader.IsDBNull(0) ? null : reader.GetValue(0);
                        done += reader.GetInt64(2);
                    }, ct).ConfigureAwait(false);
                }, cancellationToken).ConfigureAwait(false);

                progress?.Report(new MigrationProgress("backfill", Math.Min(done, total), total,
                    string.Create(CultureInfo.InvariantCulture, $"backfill: {done} of {total} rows in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s")));
                after = last;
                inclusive = false;
                if (migration.Throttle > TimeSpan.Zero && after is not null)
                {
                    await Task.Delay(migration.Throttle, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (PostgresException e)
        {
            StoreTelemetry.SetError(activity, e);
            throw Explain(e, "backfill", migration);
        }
        finally
        {
            if (reopened is not null)
            {
                await reopened.DisposeAsync().ConfigureAwait(false);
            }
        }

        return done;
    }

    private async Task<IReadOnlyList<IndexBuild>> BuildIndexesAsync(
        NpgsqlConnection connection, ScriptContext context, PgvectorTableState state, PgvectorMigrationOptions migration,
        IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        var builds = new List<IndexBuild> { await BuildIndexAsync(connection, PrefixIndex(), context, state, migration, progress, cancellationToken).ConfigureAwait(false) };
        if (_options.CreateFullDimensionIndex && _layout.FullDimensions <= PgvectorTable.MaxHalfvecIndexDimensions)
        {
            var full = FullIndex(context.FullType);
            if (state.Index(_options.Schema, full.NameFor(_options.Table)) is { } existing && (existing.TableSchema != _options.Schema || existing.Table != _options.Table))
            {
                throw new PgvectorMigrationException(SqlIdentifier.Qualified(_options.Schema, _options.Table),
                    [$"An index named {SqlIdentifier.Qualified(_options.Schema, existing.Name)} already exists on {SqlIdentifier.Qualified(existing.TableSchema, existing.Table)}: it is not this table's. Drop or rename it."]);
            }

            builds.Add(await BuildIndexAsync(connection, full, context, state, migration, progress, cancellationToken).ConfigureAwait(false));
        }

        return builds;
    }

    private async Task<IndexBuild> BuildIndexAsync(
        NpgsqlConnection connection, IndexKind kind, ScriptContext context, PgvectorTableState state, PgvectorMigrationOptions migration,
        IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        long size = 0;
        foreach (var (step, script, variables) in IndexScripts(kind, context, state))
        {
            if (step == kind.Step)
            {
                variables.TryGetIdentifier("schema", out var schema);
                variables.TryGetIdentifier("index_name", out var name);
                await DropIfInvalidAsync(connection, schema, name, context, migration, progress, cancellationToken).ConfigureAwait(false);
            }

            await RunStepAsync(connection, step, (script, variables), migration, progress, cancellationToken,
                commandTimeoutSeconds: step == kind.Step ? (int)migration.IndexBuildTimeout.TotalSeconds : 300).ConfigureAwait(false);
            if (step == kind.Step)
            {
                variables.TryGetIdentifier("schema", out var schema);
                variables.TryGetIdentifier("index_name", out var name);
                await using var measure = new NpgsqlCommand(PgvectorTable.RelationSize, connection);
                measure.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(schema, name) });
                size += (long)(await measure.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
            }
        }

        return new IndexBuild(kind.NameFor(_options.Table), Stopwatch.GetElapsedTime(started), size);
    }

    /// <summary>A cancelled or failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would keep: drop it first.</summary>
    private async Task DropIfInvalidAsync(
        NpgsqlConnection connection, string schema, string indexName, ScriptContext context, PgvectorMigrationOptions migration,
        IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        var qualifiedIndex = SqlIdentifier.Qualified(schema, indexName);
        await using var check = new NpgsqlCommand(PgvectorTable.IndexValidity, connection);
        check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = qualifiedIndex });
        if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is false)
        {
            progress?.Report(new MigrationProgress("index", 0, 1, $"index: {qualifiedIndex} is INVALID (an interrupted build); dropping it to rebuild"));
            var (drop, variables) = Script("drop_index", context);
            variables.Identifier("schema", schema).Identifier("index_name", indexName);
            await RunStepAsync(connection, "drop-invalid-index", (drop, variables), migration, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A failed statement in words: what went wrong, on which object, and what to do; the SQLSTATE stays for reference.</summary>
    private PgvectorMigrationException Explain(PostgresException e, string step, PgvectorMigrationOptions migration)
    {
        var table = SqlIdentifier.Qualified(_options.Schema, _options.Table);
        var advice = e.SqlState switch
        {
            PostgresErrorCodes.UndefinedTable => $"an object it needs does not exist. Check the table name and schema (--table schema.name); `mrl migrate status` shows what is there.",
            PostgresErrorCodes.UndefinedColumn => "a column it names does not exist. Check --key-column and --vector-column against the table's columns.",
            PostgresErrorCodes.InsufficientPrivilege => "the current role lacks a privilege for it. Run the migration as the table's owner.",
            PostgresErrorCodes.FeatureNotSupported => "PostgreSQL cannot do this step on this table.",
            PostgresErrorCodes.DataException => "a stored value could not be converted.",
            PostgresErrorCodes.DependentObjectsStillExist => "other objects depend on what it would drop. Drop or change them first (the detail below names them).",
            LockNotAvailable => string.Create(CultureInfo.InvariantCulture,
                $"its lock on the table was not granted within {migration.LockTimeout.TotalMilliseconds} ms, {migration.LockRetries} times over: a long transaction holds the table. Retry later, or raise --lock-timeout-ms."),
            _ => "see PostgreSQL's message below.",
        };
        var detail = string.IsNullOrEmpty(e.Detail) ? "" : " " + e.Detail;
        return new PgvectorMigrationException($"Step '{step}' on {table} failed: {advice} (SQLSTATE {e.SqlState}: {e.MessageText}.{detail})", e.SqlState, e);
    }
}
