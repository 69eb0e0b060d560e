using System.Data;
using System.Diagnostics;
using System.Globalization;
using Mrl.Adapters.Diagnostics;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

// Running the migration's steps: connections, lock retries, telemetry, the resumable backfill, index builds, and PostgreSQL's errors in words.
public sealed partial class PgvectorMigrator
{
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
