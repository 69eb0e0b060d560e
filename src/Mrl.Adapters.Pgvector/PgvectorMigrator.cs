using System.Data;
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
public sealed partial class PgvectorMigrator
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

    private Task<NpgsqlConnection> OpenReadOnlyAsync(CancellationToken cancellationToken) => OpenReadOnlyAsync(_dataSource, cancellationToken);

    private static async Task<NpgsqlConnection> OpenReadOnlyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
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

}
