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

    /// <summary>Reads the number of dimensions of the table's full-vector column, for a migration that was not told it.</summary>
    /// <exception cref="SchemaMismatchException">The table or its vector column does not exist, or the column has no fixed dimension.</exception>
    public static async Task<int> ReadFullDimensionsAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        var table = SqlIdentifier.Qualified(options.Schema, options.Table);
        await using var command = dataSource.CreateCommand(PgvectorTable.Columns);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetString(0) == options.VectorColumn && reader.GetInt32(2) > 0)
            {
                return reader.GetInt32(2);
            }
        }

        throw new SchemaMismatchException($"Table {table} has no vector column '{options.VectorColumn}' with a fixed number of dimensions.");
    }

    /// <summary>The statements <see cref="UpAsync(PgvectorMigrationOptions?, IProgress{MigrationProgress}?, CancellationToken)"/> would run, as psql would show them (the backfill as one batch).</summary>
    public IReadOnlyList<string> PlanUp(PgvectorMigrationOptions? migration = null) => UpScripts(migration ?? new PgvectorMigrationOptions()).SelectMany(s => s.Script.Render(s.Variables)).Select(s => s.ToDisplayString()).ToArray();

    /// <summary>The statements <see cref="DownAsync"/> would run.</summary>
    public IReadOnlyList<string> PlanDown() => DownScripts().SelectMany(s => s.Script.Render(s.Variables)).Select(s => s.ToDisplayString()).ToArray();

    /// <summary>Adds the prefix: column, trigger, backfill and concurrent index (column mode), or the expression index.</summary>
    /// <exception cref="PostgresException">A step failed for a reason other than a lock timeout; re-running resumes.</exception>
    public Task UpAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        UpAsync(migration, progress, buildIndex: true, cancellationToken);

    /// <summary>Builds the prefix HNSW index (and, with <see cref="PgvectorStoreOptions.CreateFullDimensionIndex"/>, the full-dimension one), repairing an INVALID leftover; reports each build's time and size.</summary>
    public async Task<IReadOnlyList<IndexBuild>> BuildIndexesAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        var builds = new List<IndexBuild>
        {
            await BuildIndexAsync(connection, _options.ResolvedIndexName(_layout.PrefixDimensions),
                Script(_options.PrefixStorage == PrefixStorage.Column ? "create_prefix_index" : "create_expression_index"), migration, progress, cancellationToken).ConfigureAwait(false),
        };
        if (_options.CreateFullDimensionIndex && _layout.FullDimensions <= PgvectorTable.MaxHalfvecIndexDimensions)
        {
            var fullType = await ReadFullTypeAsync(connection, cancellationToken).ConfigureAwait(false);
            var wide = fullType == VectorType.Vector && _layout.FullDimensions > PgvectorTable.MaxVectorIndexDimensions;
            var (script, variables) = Script(wide ? "create_full_halfvec_index" : "create_full_index");
            variables.Identifier("index_name", _options.FullIndexName)
                .Raw("opclass", PgvectorTable.OperatorClass(wide ? VectorType.HalfVec : fullType, _layout.Metric));
            builds.Add(await BuildIndexAsync(connection, _options.FullIndexName, (script, variables), migration, progress, cancellationToken).ConfigureAwait(false));
        }

        return builds;
    }

    /// <summary>
    /// Column mode: adds the prefix column and its trigger, and backfills it, but builds no index (see <see cref="BuildIndexesAsync"/>);
    /// expression mode: nothing. For loading or comparing several prefixes before building each index once.
    /// </summary>
    public Task AddPrefixWithoutIndexAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        UpAsync(migration, progress, buildIndex: false, cancellationToken);

    private async Task UpAsync(PgvectorMigrationOptions? migration, IProgress<MigrationProgress>? progress, bool buildIndex, CancellationToken cancellationToken)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
            await RunStepAsync(connection, "add-column", Script("add_prefix_column"), migration, progress, cancellationToken).ConfigureAwait(false);
            await RunStepAsync(connection, "trigger", Script("create_prefix_trigger"), migration, progress, cancellationToken).ConfigureAwait(false);
            await BackfillAsync(connection, migration, progress, cancellationToken).ConfigureAwait(false);
        }

        if (buildIndex)
        {
            await BuildIndexesAsync(migration, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes what <see cref="UpAsync(PgvectorMigrationOptions?, IProgress{MigrationProgress}?, CancellationToken)"/> added: the index, and in column mode the trigger, its function and the column.</summary>
    public async Task DownAsync(PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        migration ??= new PgvectorMigrationOptions();
        migration.Validate();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        foreach (var (name, script, variables) in DownScripts())
        {
            await RunStepAsync(connection, name, (script, variables), migration, progress, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates the table a managed store uses, then its prefix and index, on an empty table.</summary>
    internal async Task CreateManagedTableAsync(string keyType, CancellationToken cancellationToken)
    {
        var migration = new PgvectorMigrationOptions();
        await using (var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false))
        {
            await RunStepAsync(connection, "extension", Script("create_extension"), migration, null, cancellationToken).ConfigureAwait(false);
            var (script, variables) = Script("create_table");
            variables.Raw("key_type", keyType).Raw("storage", FitsInline(_options.FullVectorType) ? "PLAIN" : "EXTERNAL")
                .Raw("full_type", PgvectorTable.TypeName(_options.FullVectorType)).Raw("full_dims", _layout.FullDimensions)
                .Identifier("payload_column", _options.PayloadColumn ?? "payload");
            await RunStepAsync(connection, "create-table", (script, variables), migration, null, cancellationToken).ConfigureAwait(false);
        }

        await UpAsync(migration, null, buildIndex: !_options.DeferIndexes, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops the table, its indexes, its prefix trigger and the trigger's function.</summary>
    internal async Task DropTableAsync(CancellationToken cancellationToken)
    {
        var migration = new PgvectorMigrationOptions();
        await using var connection = await OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        await RunStepAsync(connection, "drop-table", Script("drop_table"), migration, null, cancellationToken).ConfigureAwait(false);
        await RunStepAsync(connection, "drop-function", Script("drop_prefix_function"), migration, null, cancellationToken).ConfigureAwait(false);
    }

    private bool FitsInline(VectorType type) =>
        type == VectorType.Vector ? _layout.FullDimensions <= 1_900 : _layout.FullDimensions <= 3_900;

    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> UpScripts(PgvectorMigrationOptions migration)
    {
        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            yield return Named("add-column", Script("add_prefix_column"));
            yield return Named("trigger", Script("create_prefix_trigger"));
            var (backfill, variables) = Script("backfill_batch");
            yield return ("backfill", backfill, variables.Raw("batch_size", migration.BatchSize).Value("after", "<first key without a prefix>").Value("inclusive", true));
            yield return Named("index", Script("create_prefix_index"));
        }
        else
        {
            yield return Named("index", Script("create_expression_index"));
        }

        static (string, SqlScript, ScriptVariables) Named(string name, (SqlScript Script, ScriptVariables Variables) s) => (name, s.Script, s.Variables);
    }

    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> DownScripts()
    {
        var (dropIndex, indexVariables) = Script("drop_index");
        yield return ("drop-index", dropIndex, indexVariables);
        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            var (trigger, triggerVariables) = Script("drop_prefix_trigger");
            yield return ("drop-trigger", trigger, triggerVariables);
            var (column, columnVariables) = Script("drop_prefix_column");
            yield return ("drop-column", column, columnVariables);
        }
    }

    /// <summary>A script with every variable the table's options define.</summary>
    private (SqlScript Script, ScriptVariables Variables) Script(string name)
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
            .Raw("prefix_type", PgvectorTable.TypeName(prefixType))
            .Raw("prefix_dims", _layout.PrefixDimensions)
            .Raw("normalize_fn", _layout.NormalizesPrefix ? "l2_normalize" : "")
            .Raw("opclass", PgvectorTable.OperatorClass(prefixType, _layout.Metric))
            .Raw("m", _options.HnswM)
            .Raw("ef_construction", _options.HnswEfConstruction)
            .Raw("full_dims", _layout.FullDimensions);

        // The trigger script passes these as settings (psql does not expand variables inside dollar quotes).
        variables.Value("schema", _options.Schema).Value("table", _options.Table).Value("vector_column", _options.VectorColumn)
            .Value("prefix_column", _options.ResolvedPrefixColumn).Value("prefix_type", PgvectorTable.TypeName(prefixType))
            .Value("prefix_dims", _layout.PrefixDimensions.ToString(CultureInfo.InvariantCulture))
            .Value("normalize_fn", _layout.NormalizesPrefix ? "l2_normalize" : "")
            .Value("function_name", _options.TriggerName).Value("trigger_name", _options.TriggerName);
        return (SqlScript.Load(name), variables);
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
        catch (Exception e)
        {
            MrlTelemetry.SetError(activity, e);
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

    private Activity? StartStep(string step) => MrlTelemetry.StartMigrationStep(PgvectorAdaptiveStore<long>.SystemName, _options.Table, step);

    private async Task BackfillAsync(NpgsqlConnection connection, PgvectorMigrationOptions migration, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        using var activity = StartStep("backfill");
        object? after;
        long total;
        var (startScript, startVariables) = Script("backfill_start");
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
            return;
        }

        var (script, variables) = Script("backfill_batch");
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
        finally
        {
            if (reopened is not null)
            {
                await reopened.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<IndexBuild> BuildIndexAsync(
        NpgsqlConnection connection, string indexName, (SqlScript Script, ScriptVariables Variables) script, PgvectorMigrationOptions migration,
        IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        // A cancelled or failed CREATE INDEX CONCURRENTLY leaves an INVALID index that IF NOT EXISTS would keep: drop it first.
        var qualifiedIndex = SqlIdentifier.Qualified(_options.Schema, indexName);
        await using (var check = new NpgsqlCommand(PgvectorTable.IndexValidity, connection))
        {
            check.Parameters.Add(new NpgsqlParameter<string> { TypedValue = qualifiedIndex });
            if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is false)
            {
                progress?.Report(new MigrationProgress("index", 0, 1, $"index: {qualifiedIndex} is INVALID (an interrupted build); dropping it to rebuild"));
                var (drop, variables) = Script("drop_index");
                variables.Identifier("index_name", indexName);
                await RunStepAsync(connection, "drop-invalid-index", (drop, variables), migration, progress, cancellationToken).ConfigureAwait(false);
            }
        }

        var started = Stopwatch.GetTimestamp();
        await RunStepAsync(connection, "index", script, migration, progress, cancellationToken,
            commandTimeoutSeconds: (int)migration.IndexBuildTimeout.TotalSeconds).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        await using var size = new NpgsqlCommand(PgvectorTable.RelationSize, connection);
        size.Parameters.Add(new NpgsqlParameter<string> { TypedValue = qualifiedIndex });
        return new IndexBuild(indexName, elapsed, (long)(await size.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L));
    }

    private async Task<VectorType> ReadFullTypeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(PgvectorTable.Columns, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_options.Schema, _options.Table) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetString(0) == _options.VectorColumn)
            {
                return reader.GetString(1) == "halfvec" ? VectorType.HalfVec : VectorType.Vector;
            }
        }

        throw new SchemaMismatchException($"Table {SqlIdentifier.Qualified(_options.Schema, _options.Table)} has no vector column '{_options.VectorColumn}'.");
    }
}
