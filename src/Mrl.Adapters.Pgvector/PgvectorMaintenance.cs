using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// What a bulk load and its index builds need around them: the parallelism an HNSW build gets, statistics after the load,
/// the progress of a running build, the table's size, and dropping the table. <c>mrl bench</c> uses it to load a table
/// once and build each of its indexes once, at equal parallelism.
/// </summary>
internal sealed class PgvectorMaintenance
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PgvectorStoreOptions _options;
    private readonly string _qualified;

    /// <summary>Creates maintenance operations for the table the options name.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public PgvectorMaintenance(NpgsqlDataSource dataSource, PgvectorStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _dataSource = dataSource;
        _options = options;
        _qualified = SqlIdentifier.Qualified(options.Schema, options.Table);
    }

    /// <summary>Reads the settings that decide how many parallel workers an index build on the table gets.</summary>
    public async Task<PgvectorBuildSettings> ReadBuildSettingsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PgvectorTable.BuildSettings);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _qualified });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new PgvectorBuildSettings(
            reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetInt32(4));
    }

    /// <summary>
    /// Sets the table's <c>parallel_workers</c>, so that every index built on it is planned with the same number of workers
    /// (still capped by <c>max_parallel_maintenance_workers</c>). Without it, PostgreSQL plans from the heap's size, and a
    /// table whose vectors live in TOAST may get no worker at all.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="workers"/> is negative or above 1,024.</exception>
    public Task SetParallelWorkersAsync(int workers, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workers, 1_024);
        return RunAsync("set_parallel_workers", v => v.Raw("parallel_workers", workers), cancellationToken);
    }

    /// <summary>Runs <c>VACUUM (ANALYZE)</c> on the table: after a bulk load, so that what follows does not pay for hint bits and statistics.</summary>
    public Task VacuumAnalyzeAsync(CancellationToken cancellationToken = default) => RunAsync("vacuum_analyze", null, cancellationToken);

    /// <summary>Drops the table, its indexes and triggers, if it exists. Trigger functions stay (see <see cref="PgvectorMigrator.DownAsync"/>).</summary>
    public Task DropTableAsync(CancellationToken cancellationToken = default) => RunAsync("drop_table", null, cancellationToken);

    /// <summary>Whether the table exists.</summary>
    public async Task<bool> TableExistsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PgvectorTable.TableExists);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _qualified });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The table's heap and TOAST bytes, without its indexes; 0 when it does not exist.</summary>
    public async Task<long> ReadTableBytesAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PgvectorTable.TableSize);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _qualified });
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The index builds running on the table right now (<c>pg_stat_progress_create_index</c>), each with its parallel workers.</summary>
    public async Task<IReadOnlyList<IndexBuildProgress>> ReadIndexBuildProgressAsync(CancellationToken cancellationToken = default)
    {
        await using var command = _dataSource.CreateCommand(PgvectorTable.IndexBuildProgress);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _qualified });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var builds = new List<IndexBuildProgress>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            builds.Add(new IndexBuildProgress(
                reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt32(6)));
        }

        return builds;
    }

    private async Task RunAsync(string scriptName, Action<ScriptVariables>? configure, CancellationToken cancellationToken)
    {
        var variables = new ScriptVariables().Identifier("schema", _options.Schema).Identifier("table", _options.Table);
        configure?.Invoke(variables);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var statement in SqlScript.Load(scriptName).Render(variables))
        {
            // VACUUM of a large table outlasts any fixed timeout; the caller cancels instead.
            await using var command = new NpgsqlCommand(statement.Text, connection) { CommandTimeout = 0 };
            foreach (var value in statement.Parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
