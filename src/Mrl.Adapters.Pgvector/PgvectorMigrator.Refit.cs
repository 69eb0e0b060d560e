using System.Data;
using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Diagnostics;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

// Refitting a projected key after the data drifted: a new version fitted on a fresh sample, its key column built beside the one
// in use, then one short transaction that gives it the store's names, so that searches never see a half-filled key and writes
// never lose one.
public sealed partial class PgvectorMigrator
{
    /// <summary>One sample row in this many is held out of the new fit, to measure both keys on rows neither was fitted on.</summary>
    private const int HeldOutEvery = 5;

    /// <summary>
    /// Works out, reading only, what <see cref="RefitProjectionAsync"/> would do with the table's projected key: go on with a
    /// refit an earlier run started, finish one it switched, or fit a new version on a fresh sample and measure whether it keeps
    /// enough more of the data than the key in use to be worth it. The fit runs here too; nothing is stored.
    /// </summary>
    /// <returns>The action, the versions, the measured drift, and the statements the refit would run.</returns>
    /// <exception cref="PgvectorMigrationException">
    /// The table cannot be refitted: it has no projected key (none, or a truncated prefix), the key in use has no valid index yet,
    /// the metric or the key size differs from the table's without <see cref="PgvectorRefitOptions.ChangePrefixDimensions"/>, the
    /// table is partitioned, or the sample is too small. Nothing was changed.
    /// </exception>
    public static async Task<PgvectorRefitPlan> PlanRefitAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, PgvectorRefitOptions? refit = null,
        PgvectorMigrationOptions? migration = null, CancellationToken cancellationToken = default) =>
        (await PrepareRefitAsync(dataSource, options, refit, migration ?? new PgvectorMigrationOptions(), cancellationToken).ConfigureAwait(false)).Plan;

    /// <summary>
    /// Refits the table's projected key after its data drifted. A new version is fitted on a fresh sample (four fifths of it;
    /// the other fifth measures both keys) and stored beside the one in use; a key column <c>{prefix column}_v{version}</c> with a
    /// trigger of its own is added, so that rows written meanwhile get both keys, then backfilled (resumably) and indexed
    /// concurrently with the parameters of the index in use. One short transaction then switches: the new column and its indexes
    /// take the names stores use, and the store's trigger and prefix function compute the new version and name it in their
    /// comment. The replaced column, its indexes and its directions are dropped after the switch.
    /// </summary>
    /// <remarks>
    /// A store opened afterwards with the replaced version refuses (<see cref="SchemaMismatchException"/>): open it with
    /// <see cref="ReadLayoutAsync"/>. A store opened before the switch keeps the query key it was given until it is opened again.
    /// Every step is idempotent: a rerun after an interruption finishes the same refit without a new fit, and a rerun after the
    /// refit finds no drift worth a refit and changes nothing.
    /// </remarks>
    /// <returns>What was done: <see cref="PgvectorRefitPlan.Action"/> is <see cref="PgvectorRefitAction.None"/> when nothing was changed.</returns>
    /// <exception cref="PgvectorMigrationException">
    /// The table cannot be refitted (see <see cref="PlanRefitAsync"/>; nothing was changed), or a step failed for a reason other than a
    /// lock timeout (a rerun resumes).
    /// </exception>
    public static async Task<PgvectorRefitPlan> RefitProjectionAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, PgvectorRefitOptions? refit = null,
        PgvectorMigrationOptions? migration = null, IProgress<MigrationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        migration ??= new PgvectorMigrationOptions();
        var work = await PrepareRefitAsync(dataSource, options, refit, migration, cancellationToken).ConfigureAwait(false);
        foreach (var note in work.Plan.Notes)
        {
            progress?.Report(new MigrationProgress("preflight", 1, 1, note));
        }

        if (work.Final is not { } final)
        {
            return work.Plan;
        }

        if (work.Plan.Action is PgvectorRefitAction.Refit or PgvectorRefitAction.Resume)
        {
            await final.BuildAndSwitchAsync(work, migration, progress, cancellationToken).ConfigureAwait(false);
        }

        await using var connection = await final.OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        foreach (var (step, script, variables) in final.RetireScripts(work))
        {
            await final.RunStepAsync(connection, step, (script, variables), migration, progress, cancellationToken).ConfigureAwait(false);
        }

        return work.Plan;
    }

    /// <summary>
    /// A refit worked out: the plan, the table's state when it was read, the migrator with the store's names (<see cref="Final"/>)
    /// and the one with the new key column's names (<see cref="Build"/>), both with the target layout, and the replaced versions.
    /// </summary>
    private sealed record RefitWork(
        PgvectorRefitPlan Plan, PgvectorTableState State, PgvectorMigrator? Final, PgvectorMigrator? Build, IReadOnlyList<int> Retired, bool StoresDirections);

    private static async Task<RefitWork> PrepareRefitAsync(NpgsqlDataSource dataSource, PgvectorStoreOptions options, PgvectorRefitOptions? refit,
        PgvectorMigrationOptions migration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        refit ??= new PgvectorRefitOptions();
        refit.Validate();
        migration.Validate();
        var table = SqlIdentifier.Qualified(options.Schema, options.Table);
        var column = options.ResolvedPrefixColumn;

        await using var connection = await OpenReadOnlyAsync(dataSource, cancellationToken).ConfigureAwait(false);
        var anyLayout = new EmbeddingLayout(2, 1);
        var state = await PgvectorTableState.ReadAsync(connection, options, anyLayout, cancellationToken).ConfigureAwait(false);
        var problems = new PgvectorPreflight(options, anyLayout, state).CheckTableAndColumns();
        if (problems.Count > 0)
        {
            throw new PgvectorMigrationException(table, problems);
        }

        if (options.PrefixStorage != PrefixStorage.Column)
        {
            throw Refused(table, "A projected key is kept in a key column (--mode Column); an expression index has no key to refit.");
        }

        if (state.IsPartitioned)
        {
            throw Refused(table, $"{table} is partitioned: refitting the key of a partitioned table is not supported yet. Remove the key (`mrl migrate postgres --down`) and fit a new one with `mrl fit-projection`.");
        }

        if (await ReadProjectionVersionAsync(connection, options, cancellationToken).ConfigureAwait(false) is not { } currentVersion)
        {
            throw Refused(table, state.Columns.ContainsKey(column) || state.Functions.ContainsKey(options.PrefixFunctionName)
                ? $"The key of {table} ('{column}') is a truncated prefix, not a projection: a refit replaces a projected key with a newer fit. " +
                  "To move to a projected key, remove the prefix (`mrl migrate postgres --down`), then run `mrl fit-projection` without --refit."
                : $"{table} has no projected key to refit (no key column '{column}' whose prefix function names a projection version). Add one with `mrl fit-projection` without --refit.");
        }

        if (!state.Columns.TryGetValue(column, out var keyColumn) || keyColumn.Type is not ("halfvec" or "vector") || keyColumn.Modifier < 1)
        {
            throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                $"The prefix function of {table} names projection version {currentVersion}, but the table has no key column '{column}' of a declared size. Run `mrl fit-projection` without --refit to finish that migration first."));
        }

        if (state.Functions.TryGetValue(options.PrefixFunctionName, out var function) && !function.OwnedByCurrentRole)
        {
            throw Refused(table, $"Function {SqlIdentifier.Qualified(options.Schema, options.PrefixFunctionName)} is owned by another role; a refit replaces it. Connect as its owner.");
        }

        var current = await ReadProjectionAsync(connection, options, currentVersion, cancellationToken).ConfigureAwait(false);
        var prefixType = keyColumn.Type == "vector" ? VectorType.Vector : VectorType.HalfVec;
        var indexName = options.ResolvedIndexName(current.Rows);
        var index = state.Index(options.Schema, indexName);
        if (index is null || !index.Valid || index.Method != "hnsw" || index.FirstColumn != column || index.TableSchema != options.Schema || index.Table != options.Table)
        {
            throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                $"The key in use (projection version {currentVersion}) has no valid HNSW index {SqlIdentifier.Qualified(options.Schema, indexName)} on '{column}' yet. Finish its migration first: `mrl fit-projection` without --refit resumes it."));
        }

        var operatorClass = PgvectorTable.OperatorClass(prefixType, refit.Metric);
        if (index.OperatorClass != operatorClass)
        {
            throw Refused(table,
                $"Index {SqlIdentifier.Qualified(options.Schema, indexName)} of the key in use is built with {index.OperatorClass}; a refit for {refit.Metric} would build {operatorClass}. Refit with the metric the table was migrated with (--metric).");
        }

        // A scoped store's index holds its collection only: the new one must hold the same rows, and the options say which.
        await using (var predicate = new NpgsqlCommand(PgvectorCatalog.IndexPredicate, connection))
        {
            predicate.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(options.Schema, indexName) });
            var scoped = await predicate.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
            if ((scoped is null) != (options.ScopeColumn is null))
            {
                throw Refused(table, scoped is null
                    ? $"Index {SqlIdentifier.Qualified(options.Schema, indexName)} of the key in use holds every row, but the refit is scoped to {options.ScopeColumn} = {options.ScopeValue}. Refit without --scope-column and --scope-value."
                    : $"Index {SqlIdentifier.Qualified(options.Schema, indexName)} of the key in use holds only the rows where {scoped}. Refit with the --scope-column and --scope-value it was built with.");
            }
        }

        // The new key gets the type and the index parameters of the one it replaces, whatever the options say.
        var facing = options.Clone();
        facing.PrefixVectorType = prefixType;
        facing.HnswM = index.Option("m") ?? 16;
        facing.HnswEfConstruction = index.Option("ef_construction") ?? 64;

        var versions = new List<int>();
        await using (var read = new NpgsqlCommand(PgvectorCatalog.ProjectionVersions(SqlIdentifier.Qualified(options.Schema, options.ProjectionTableName)), connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                versions.Add(reader.GetInt32(0));
            }
        }

        var notes = new List<string>();
        var older = versions.Where(v => v < currentVersion).ToArray();
        if (older.Length > 0)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Projection version {currentVersion} is in use, and the side table still holds version {string.Join(", ", older)}: a refit was switched but not cleaned up. Dropping what the replaced version left."));
            return Work(PgvectorRefitAction.FinishCleanup, current, older, null, null);
        }

        if (versions.Any(v => v > currentVersion))
        {
            var targetVersion = versions[^1];
            var target = await ReadProjectionAsync(connection, facing, targetVersion, cancellationToken).ConfigureAwait(false);
            if (refit.PrefixDimensions is { } asked && asked != target.Rows)
            {
                throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                    $"A refit of {table} to projection version {targetVersion}, a key of {target.Rows} values, was started before and is not finished. Finish it with that size (--prefix {target.Rows}) before asking for {asked}."));
            }

            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"A refit to projection version {targetVersion} was started before and is not finished: going on with it, without a new fit."));
            return Work(PgvectorRefitAction.Resume, target, versions.Where(v => v != targetVersion).ToArray(), null, null);
        }

        var prefixDimensions = refit.PrefixDimensions ?? current.Rows;
        if (prefixDimensions != current.Rows && !refit.ChangePrefixDimensions)
        {
            throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                $"The key of {table} has {current.Rows} values (projection version {currentVersion}); this refit asks for {prefixDimensions}. Refit with {current.Rows}, or say that the key's size is to change (--resize, ChangePrefixDimensions)."));
        }

        if (prefixDimensions > current.Columns)
        {
            throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                $"A key of {prefixDimensions} values cannot be projected from vectors of {current.Columns} dimensions."));
        }

        var (sample, rows) = await ReadSampleAsync(connection, facing, state.VectorSchema, current.Columns, refit.SampleSize, cancellationToken).ConfigureAwait(false);
        var heldOutRows = rows / HeldOutEvery;
        if (rows - heldOutRows < prefixDimensions || heldOutRows < 1)
        {
            throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                $"A refit to a key of {prefixDimensions} values needs a sample of at least {Math.Max(HeldOutEvery, prefixDimensions * HeldOutEvery / (HeldOutEvery - 1) + 1)} vectors of {current.Columns} dimensions (four fifths to fit on, one fifth to measure on); the table gave {rows}."));
        }

        var d = current.Columns;
        var fitRows = new float[(rows - heldOutRows) * d];
        var heldOut = new float[heldOutRows * d];
        for (int i = 0, fitted = 0, held = 0; i < rows; i++)
        {
            var destination = i % HeldOutEvery == HeldOutEvery - 1 ? heldOut.AsSpan(held++ * d, d) : fitRows.AsSpan(fitted++ * d, d);
            sample.AsSpan(i * d, d).CopyTo(destination);
        }

        var version = versions[^1] + 1;
        var refitted = await Task.Run(() => ProjectionFitter.Fit(fitRows, d, prefixDimensions, refit.Metric, version, cancellationToken: cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        var keptByCurrent = ProjectionFitter.KeptVariance(heldOut, current, refit.Metric);
        var keptByRefit = ProjectionFitter.KeptVariance(heldOut, refitted, refit.Metric);
        var gain = keptByRefit - keptByCurrent;
        notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"On {heldOutRows} held-out sample rows, the key in use (version {currentVersion}, {current.Rows} values) keeps {keptByCurrent * 100:F1}% of the variance; a new fit on {rows - heldOutRows} other rows (version {version}, {prefixDimensions} values) keeps {keptByRefit * 100:F1}% ({gain * 100:+0.0;-0.0} points)."));
        if (prefixDimensions == current.Rows && gain < refit.MinimumGain)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"Nothing to refit: the new fit gains less than the minimum of {refit.MinimumGain * 100:0.0##} points over the key in use."));
            return new RefitWork(new PgvectorRefitPlan(PgvectorRefitAction.None, currentVersion, null, keptByCurrent, keptByRefit, notes, []), state, null, null, [], false);
        }

        return Work(PgvectorRefitAction.Refit, refitted, [currentVersion], keptByCurrent, keptByRefit);

        RefitWork Work(PgvectorRefitAction action, PrefixProjection target, IReadOnlyList<int> retired, double? keptBefore, double? keptAfter)
        {
            if (action != PgvectorRefitAction.FinishCleanup)
            {
                CheckRefitNames(table, state, facing, currentVersion, target, prefixType, resuming: action == PgvectorRefitAction.Resume);
            }

            var layout = new EmbeddingLayout(target, refit.Metric);
            var final = new PgvectorMigrator(dataSource, layout, facing);
            var build = new PgvectorMigrator(dataSource, layout, facing.ForKeyVersion(target.Version));
            var draft = new RefitWork(new PgvectorRefitPlan(action, currentVersion, target, keptBefore, keptAfter, notes, []), state, final, build, retired,
                action == PgvectorRefitAction.Refit);
            return draft with { Plan = draft.Plan with { Statements = final.RefitStatements(draft, migration) } };
        }
    }

    private static PgvectorMigrationException Refused(string table, string problem) => new(table, [problem]);

    /// <summary>
    /// The new key column is added only if absent, and the one in use is renamed to its version's name at the switch: a column
    /// of either name that is not the refit's own would be written over, or stop the switch. Only a refit that an earlier run
    /// started (<paramref name="resuming"/>) has its column already, of the key's type and size.
    /// </summary>
    private static void CheckRefitNames(string table, PgvectorTableState state, PgvectorStoreOptions facing, int currentVersion, PrefixProjection target,
        VectorType prefixType, bool resuming)
    {
        var refitColumn = facing.ForKeyVersion(target.Version).ResolvedPrefixColumn;
        if (state.Columns.TryGetValue(refitColumn, out var existing)
            && (!resuming || existing.Type != PgvectorTable.TypeName(prefixType) || existing.Modifier != target.Rows))
        {
            var type = existing.Modifier > 0 ? string.Create(CultureInfo.InvariantCulture, $"{existing.Type}({existing.Modifier})") : existing.Type;
            throw Refused(table, string.Create(CultureInfo.InvariantCulture,
                $"{table} has a column '{refitColumn}' ({type}) that is not the key column this refit builds for projection version {target.Version} ({PgvectorTable.TypeName(prefixType)}({target.Rows})). Rename or drop it."));
        }

        var retiredColumn = facing.ForKeyVersion(currentVersion).ResolvedPrefixColumn;
        if (state.Columns.ContainsKey(retiredColumn))
        {
            throw Refused(table, $"{table} has a column '{retiredColumn}': the switch renames the key column in use to that name, to drop it after. Rename or drop that column.");
        }
    }

    /// <summary>The statements of a refit as psql would show them, the switch between BEGIN and COMMIT.</summary>
    private string[] RefitStatements(RefitWork work, PgvectorMigrationOptions migration)
    {
        var statements = new List<string>();
        if (work.Plan.Action is PgvectorRefitAction.Refit or PgvectorRefitAction.Resume)
        {
            var build = work.Build!;
            var context = build.Context(work.State, new PgvectorPreflight(build._options, build._layout, work.State));
            var steps = new List<(string, SqlScript, ScriptVariables)>();
            if (work.StoresDirections)
            {
                var (store, variables) = build.Script("store_projection", context);
                steps.Add(("store-projection", store, variables.Value("directions",
                    string.Create(CultureInfo.InvariantCulture, $"<{build._layout.PrefixDimensions} directions of {build._layout.FullDimensions} values>"))));
            }

            var (column, columnVariables) = build.Script("add_prefix_column", context);
            steps.Add(("add-column", column, columnVariables));
            var (trigger, triggerVariables) = build.Script("create_prefix_trigger", context);
            steps.Add(("trigger", trigger, triggerVariables));
            var (backfill, backfillVariables) = build.Script("backfill_batch", context);
            steps.Add(("backfill", backfill, backfillVariables.Raw("batch_size", migration.BatchSize).Value("after", "<first key without a prefix>").Value("inclusive", true)));
            steps.AddRange(build.IndexScripts(build.PendingIndex(), context, work.State));
            steps.AddRange(build.IndexScripts(build.PrefixIndex(), context, work.State));
            statements.AddRange(Display(steps));
            statements.Add("BEGIN;");
            statements.AddRange(Display(SwitchScripts(work)));
            statements.Add("COMMIT;");
        }

        statements.AddRange(Display(RetireScripts(work)));
        return [.. statements];
    }

    /// <summary>
    /// The switch, in one transaction: the refit's own trigger and functions go, the new key column and its indexes take the store's
    /// names (the replaced ones move aside under names of their version), and the store's trigger and functions are made again with
    /// the new version, which their comment names.
    /// </summary>
    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> SwitchScripts(RefitWork work)
    {
        var build = work.Build!;
        var buildContext = build.Context(work.State, new PgvectorPreflight(build._options, build._layout, work.State));
        var (dropRefitTrigger, dropVariables) = build.Script("drop_prefix_trigger", buildContext);
        yield return ("switch", dropRefitTrigger, dropVariables);

        var retired = _options.ForKeyVersion(work.Plan.CurrentVersion);
        var context = Context(work.State, new PgvectorPreflight(_options, _layout, work.State));
        var (rename, variables) = Script("refit_switch", context);
        var p = _layout.PrefixDimensions;
        variables.Identifier("retired_column", retired.ResolvedPrefixColumn).Identifier("refit_column", build._options.ResolvedPrefixColumn)
            .Identifier("retired_index", retired.ResolvedIndexName(p)).Identifier("refit_index", build._options.ResolvedIndexName(p))
            .Identifier("pending_index", _options.PendingIndexName(_options.Table)).Identifier("retired_pending_index", retired.PendingIndexName(_options.Table))
            .Identifier("refit_pending_index", build._options.PendingIndexName(_options.Table));
        yield return ("switch", rename, variables);

        var (trigger, triggerVariables) = Script("create_prefix_trigger", context);
        yield return ("switch", trigger, triggerVariables);
    }

    /// <summary>
    /// What each replaced version leaves once the switch has committed: a trigger of its own (only a refit that never switched has
    /// one), its indexes, dropped concurrently, its key column, and last its directions, so that a rerun still finds the version.
    /// </summary>
    private IEnumerable<(string Name, SqlScript Script, ScriptVariables Variables)> RetireScripts(RefitWork work)
    {
        foreach (var version in work.Retired)
        {
            var retired = new PgvectorMigrator(_dataSource, _layout, _options.ForKeyVersion(version));
            var context = retired.Context(work.State, new PgvectorPreflight(retired._options, retired._layout, work.State));
            if (work.State.Triggers.Any(t => t.Name == retired._options.TriggerName))
            {
                var (trigger, triggerVariables) = retired.Script("drop_prefix_trigger", context);
                yield return ("drop-retired-trigger", trigger, triggerVariables);
            }

            var (index, indexVariables) = retired.Script("drop_index", context);
            yield return ("drop-retired-index", index, indexVariables);
            var (pending, pendingVariables) = retired.Script("drop_index", context);
            yield return ("drop-retired-pending-index", pending, pendingVariables.Identifier("index_name", retired._options.PendingIndexName(_options.Table)));
            var (column, columnVariables) = retired.Script("drop_prefix_column", context);
            yield return ("drop-retired-column", column, columnVariables);
            var (directions, directionVariables) = retired.Script("delete_projection", context);
            yield return ("delete-retired-directions", directions, directionVariables.Value("projection_version", version.ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Builds the new key column beside the one in use (directions, column, trigger, backfill, indexes), then switches.</summary>
    private async Task BuildAndSwitchAsync(RefitWork work, PgvectorMigrationOptions migration, IProgress<MigrationProgress>? progress, CancellationToken cancellationToken)
    {
        var build = work.Build!;
        var context = build.Context(work.State, new PgvectorPreflight(build._options, build._layout, work.State));
        var connection = await build.OpenAsync(migration, cancellationToken).ConfigureAwait(false);
        try
        {
            if (work.StoresDirections)
            {
                var (store, variables) = build.Script("store_projection", context);
                await build.RunStepAsync(connection, "store-projection", (store, variables.Value("directions", DirectionLiterals(work.Plan.Target!))), migration, progress, cancellationToken)
                    .ConfigureAwait(false);
            }

            await build.RunStepAsync(connection, "add-column", build.Script("add_prefix_column", context), migration, progress, cancellationToken).ConfigureAwait(false);
            await build.RunStepAsync(connection, "trigger", build.Script("create_prefix_trigger", context), migration, progress, cancellationToken).ConfigureAwait(false);
            await build.BackfillAsync(connection, context, migration, progress, cancellationToken).ConfigureAwait(false);

            // The backfill may have lost this session to a terminated backend and carried on with another: go on with a live one.
            if (connection.State != ConnectionState.Open)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                connection = await build.OpenAsync(migration, cancellationToken).ConfigureAwait(false);
            }

            await build.BuildIndexAsync(connection, build.PendingIndex(), context, work.State, migration, progress, cancellationToken).ConfigureAwait(false);
            await build.BuildIndexAsync(connection, build.PrefixIndex(), context, work.State, migration, progress, cancellationToken).ConfigureAwait(false);
            await SwitchAsync(connection, work, migration, progress, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Runs the switch as one transaction; a lock timeout rolls it back whole and tries it again.</summary>
    private async Task SwitchAsync(NpgsqlConnection connection, RefitWork work, PgvectorMigrationOptions migration, IProgress<MigrationProgress>? progress,
        CancellationToken cancellationToken)
    {
        using var activity = StartStep("switch");
        var started = Stopwatch.GetTimestamp();
        var statements = SwitchScripts(work).SelectMany(s => s.Script.Render(s.Variables)).ToArray();
        try
        {
            await WithLockRetriesAsync(migration, "switch", progress, async () =>
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                foreach (var statement in statements)
                {
                    await using var command = new NpgsqlCommand(statement.Text, connection, transaction) { CommandTimeout = 300 };
                    foreach (var value in statement.Parameters)
                    {
                        command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
                    }

                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e)
        {
            StoreTelemetry.SetError(activity, e);
            throw Explain(e, "switch", migration);
        }
        catch (Exception e)
        {
            StoreTelemetry.SetError(activity, e);
            throw;
        }

        progress?.Report(new MigrationProgress("switch", 1, 1, string.Create(CultureInfo.InvariantCulture,
            $"switch: projection version {work.Plan.Target!.Version} is the key in use, done in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s")));
    }
}
