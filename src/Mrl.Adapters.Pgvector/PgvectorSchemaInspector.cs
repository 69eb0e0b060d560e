using System.Globalization;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// What the store checks before it trusts a table: pgvector's version and schema, the key, vector, payload and prefix columns
/// against the layout, the prefix index; and, when the options allow it, the creation of a managed table.
/// </summary>
internal sealed partial class PgvectorSchemaInspector<TKey>(NpgsqlDataSource dataSource, PgvectorStoreOptions options, EmbeddingLayout layout, ILogger logger)
    where TKey : notnull
{
    private static readonly Version MinimumPgvector = new(0, 7, 0);
    private readonly NpgsqlDataSource _dataSource = dataSource;
    private readonly PgvectorStoreOptions _options = options;
    private readonly ILogger _logger = logger;

    private EmbeddingLayout Layout { get; } = layout;

    public async Task<PgvectorTable> InspectAsync(bool create, CancellationToken cancellationToken)
    {
        var (version, pgvectorSchema) = await ReadPgvectorAsync(cancellationToken).ConfigureAwait(false);
        var columns = await ReadColumnsAsync(cancellationToken).ConfigureAwait(false);
        var qualified = SqlIdentifier.Qualified(_options.Schema, _options.Table);
        if (columns.Count == 0)
        {
            if (!create)
            {
                throw new SchemaMismatchException(_options.Table.Split('.') is [{ Length: > 0 } schema, { Length: > 0 } name]
                    ? $"Table {qualified} does not exist. Table holds a dot: for table {name} in schema {schema}, set Schema = \"{schema}\" and Table = \"{name}\"."
                    : $"Table {qualified} does not exist. Create it, or let the store create it (CreateTableIfMissing = true).");
            }

            await RefuseToCreateBesideAsync(qualified, cancellationToken).ConfigureAwait(false);

            await new PgvectorMigrator(_dataSource, Layout, _options).CreateManagedTableAsync(KeyTypeName, cancellationToken).ConfigureAwait(false);
            columns = await ReadColumnsAsync(cancellationToken).ConfigureAwait(false);
        }

        var fullType = CheckVectorColumn(columns, _options.VectorColumn, Layout.FullDimensions, "full vector", allowUndeclared: true);
        var undeclared = columns[_options.VectorColumn].Modifier < 0;
        if (undeclared)
        {
            LogUndeclaredDimension(_logger, qualified, _options.VectorColumn, Layout.FullDimensions);
        }

        CheckKeyColumn(columns);
        if (_options.PayloadColumn is { } payload && (!columns.TryGetValue(payload, out var payloadType) || payloadType.Type is not ("jsonb" or "json")))
        {
            throw new SchemaMismatchException($"Table {qualified} has no jsonb or json column '{payload}' for the payload. Set PayloadColumn to one, or to null with PayloadColumns.");
        }

        string? scopeType = null;
        if (_options.ScopeColumn is { } scope)
        {
            scopeType = columns.TryGetValue(scope, out var scopeColumn)
                ? scopeColumn.Type
                : throw new SchemaMismatchException($"Table {qualified} has no column '{scope}' to scope the store to (ScopeColumn); its columns: {string.Join(", ", columns.Keys)}.");
        }

        foreach (var column in _options.PayloadColumns.Where(c => !columns.ContainsKey(c)))
        {
            throw new SchemaMismatchException($"Table {qualified} has no payload column '{column}'.");
        }

        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            if (!columns.ContainsKey(_options.ResolvedPrefixColumn))
            {
                throw new SchemaMismatchException(
                    $"Table {qualified} has no prefix column '{_options.ResolvedPrefixColumn}'. Add it in place with `mrl migrate postgres` (or PgvectorMigrator.UpAsync).");
            }

            var prefixType = CheckVectorColumn(columns, _options.ResolvedPrefixColumn, Layout.PrefixDimensions, "prefix");
            if (prefixType != _options.PrefixVectorType)
            {
                throw new SchemaMismatchException(
                    $"The prefix column '{_options.ResolvedPrefixColumn}' of {qualified} is {PgvectorTable.TypeName(prefixType)}, but the options say {PgvectorTable.TypeName(_options.PrefixVectorType)}.");
            }

            await CheckProjectionAsync(qualified, cancellationToken).ConfigureAwait(false);
        }

        var scansRowsWithoutPrefix = false;
        if (_options.PrefixStorage == PrefixStorage.Column)
        {
            await using var pending = _dataSource.CreateCommand(PgvectorTable.IndexValidity);
            pending.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_options.Schema, _options.PendingIndexName(_options.Table)) });
            scansRowsWithoutPrefix = await pending.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        }

        var payloadIsJson = _options.PayloadColumn is { } json && columns[json].Type == "json";
        return new PgvectorTable(_options, Layout, fullType, version, pgvectorSchema, undeclared, scopeType, payloadIsJson) { ScansRowsWithoutPrefix = scansRowsWithoutPrefix };
    }

    /// <summary>
    /// An empty new table is the wrong answer to a name that is a typo of an existing one, or to options that describe columns
    /// the store cannot create: either means the user meant a table they have.
    /// </summary>
    private async Task RefuseToCreateBesideAsync(string qualified, CancellationToken cancellationToken)
    {
        if (_options.PayloadColumns.Count > 0)
        {
            throw new SchemaMismatchException(
                $"Table {qualified} does not exist, and the store cannot create one with plain payload columns ({string.Join(", ", _options.PayloadColumns)}). Check the table's name and schema.");
        }

        if (_options.Table.Split('.') is [{ Length: > 0 } schema, { Length: > 0 } name])
        {
            await using var dotted = _dataSource.CreateCommand(PgvectorCatalog.Relation);
            dotted.Parameters.Add(new NpgsqlParameter<string> { TypedValue = schema });
            dotted.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            if (await dotted.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
            {
                throw new SchemaMismatchException(
                    $"Table {qualified} does not exist, but table {SqlIdentifier.Qualified(schema, name)} does: set Schema = \"{schema}\" and Table = \"{name}\". " +
                    "The store creates no table whose name only looks like that one.");
            }
        }

        await using var similar = _dataSource.CreateCommand(PgvectorCatalog.SimilarTables);
        similar.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _options.Schema });
        similar.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _options.Table });
        await using var reader = await similar.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new SchemaMismatchException(
                $"Table {qualified} does not exist, but {SqlIdentifier.Qualified(reader.GetString(0), reader.GetString(1))} does (names are case-sensitive). " +
                "Use that name; the store creates no table beside one that differs only in case.");
        }
    }

    /// <summary>
    /// Without a valid HNSW index on the prefix every search reads the whole table. An explicit <see cref="PgvectorAdaptiveStore{TKey}.EnsureSchemaAsync"/>
    /// refuses a table that has none (unless <see cref="PgvectorStoreOptions.DeferIndexes"/>); otherwise, and for an index still
    /// being built, the store logs a warning and goes on, so that an application keeps working while a migration runs.
    /// </summary>
    public async Task CheckPrefixIndexAsync(bool explicitCheck, CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(PgvectorCatalog.PrefixIndexes);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_options.Schema, _options.Table) });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = _options.PrefixStorage == PrefixStorage.Column ? _options.ResolvedPrefixColumn : null, DataTypeName = "text" });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _options.ResolvedIndexName(Layout.PrefixDimensions) });
        var valid = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is bool found ? found : (bool?)null;
        if (valid == true)
        {
            return;
        }

        var qualified = SqlIdentifier.Qualified(_options.Schema, _options.Table);
        if (valid is null && explicitCheck && !_options.DeferIndexes)
        {
            throw new SchemaMismatchException(
                $"Table {qualified} has no HNSW index on its prefix, so every search would read the whole table. Build it with `mrl migrate postgres` " +
                "(it resumes and builds only what is missing) or CreateIndexesAsync().");
        }

        LogNoPrefixIndex(_logger, qualified, valid is null ? "no HNSW index on its prefix" : "an HNSW index on its prefix that is not valid yet (being built, or left by an interrupted build)");
    }

    /// <summary>
    /// The key of a table migrated with a projection is <c>P·x</c>: a query key made any other way (a truncated prefix, another
    /// version's matrix) would search it with the wrong vector and find the wrong candidates without any error. The store takes
    /// the layout as given, so it refuses one that does not match; <see cref="PgvectorMigrator.ReadLayoutAsync"/> reads the right one.
    /// </summary>
    private async Task CheckProjectionAsync(string qualified, CancellationToken cancellationToken)
    {
        int? version;
        await using (var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            version = await PgvectorMigrator.ReadProjectionVersionAsync(connection, _options, cancellationToken).ConfigureAwait(false);
        }

        var given = Layout.Projection?.Version;
        if (version == given)
        {
            return;
        }

        var stored = version?.ToString(CultureInfo.InvariantCulture);
        var mine = given?.ToString(CultureInfo.InvariantCulture);
        throw new SchemaMismatchException((stored, mine) switch
        {
            (not null, null) =>
                $"The key column '{_options.ResolvedPrefixColumn}' of {qualified} holds projected keys (projection version {stored}, stored beside the table), but the layout truncates. " +
                "Open the store with the layout PgvectorMigrator.ReadLayoutAsync reads from the table, which carries the projection.",
            (null, not null) =>
                $"The layout projects with version {mine}, but the key column '{_options.ResolvedPrefixColumn}' of {qualified} holds truncated prefixes. Use a truncating layout, or migrate the table with `mrl fit-projection`.",
            _ =>
                $"The layout projects with version {mine}, but the keys of {qualified} are computed with projection version {stored}. " +
                "Open the store with the layout PgvectorMigrator.ReadLayoutAsync reads from the table.",
        });
    }

    private static string KeyTypeName =>
        typeof(TKey) == typeof(long) ? "bigint" : typeof(TKey) == typeof(Guid) ? "uuid" : "text";

    private void CheckKeyColumn(Dictionary<string, (string Type, int Modifier)> columns)
    {
        var qualified = SqlIdentifier.Qualified(_options.Schema, _options.Table);
        if (!columns.TryGetValue(_options.KeyColumn, out var key))
        {
            throw new SchemaMismatchException($"Table {qualified} has no key column '{_options.KeyColumn}'.");
        }

        string[] accepted = typeof(TKey) == typeof(long) ? ["int8", "int4", "int2"] : typeof(TKey) == typeof(Guid) ? ["uuid"] : ["text", "varchar", "bpchar"];
        if (!accepted.Contains(key.Type))
        {
            throw new SchemaMismatchException(
                $"The key column '{_options.KeyColumn}' of {qualified} is {key.Type}; a store with {typeof(TKey).Name} keys needs {string.Join(" or ", accepted)}.");
        }
    }

    private VectorType CheckVectorColumn(Dictionary<string, (string Type, int Modifier)> columns, string name, int dimensions, string what, bool allowUndeclared = false)
    {
        var qualified = SqlIdentifier.Qualified(_options.Schema, _options.Table);
        if (!columns.TryGetValue(name, out var column))
        {
            throw new SchemaMismatchException($"Table {qualified} has no {what} column '{name}'.");
        }

        var type = column.Type switch
        {
            "vector" => VectorType.Vector,
            "halfvec" => VectorType.HalfVec,
            _ => throw new SchemaMismatchException($"The {what} column '{name}' of {qualified} is {column.Type}; expected vector or halfvec."),
        };
        if (column.Modifier != dimensions && !(allowUndeclared && column.Modifier < 0))
        {
            var actual = column.Modifier < 0 ? "no fixed dimension" : column.Modifier.ToString(CultureInfo.InvariantCulture) + " dimensions";
            throw new SchemaMismatchException(string.Create(CultureInfo.InvariantCulture,
                $"The {what} column '{name}' of {qualified} has {actual}; the layout says {dimensions}."));
        }

        return type;
    }

    // The schema comes from the catalog, never from the search_path: the store's SQL names pgvector's objects by it.
    private async Task<(Version Version, string Schema)> ReadPgvectorAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var (version, schema) = await PgvectorTableState.ReadExtensionAsync(connection, cancellationToken).ConfigureAwait(false);
        if (version < MinimumPgvector)
        {
            throw new SchemaMismatchException($"pgvector {version} is installed; this store needs {MinimumPgvector} or later (halfvec, subvector and l2_normalize). Run ALTER EXTENSION vector UPDATE.");
        }

        return (version, schema);
    }

    private async Task<Dictionary<string, (string Type, int Modifier)>> ReadColumnsAsync(CancellationToken cancellationToken)
    {
        await using var command = _dataSource.CreateCommand(PgvectorCatalog.Columns);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_options.Schema, _options.Table) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var columns = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            columns[reader.GetString(0)] = (reader.GetString(1), reader.GetInt32(3));
        }

        return columns;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Column {Column} of {Table} declares no dimension: the store reads and searches only its rows of {Dimensions} dimensions, and ignores the others.")]
    private static partial void LogUndeclaredDimension(ILogger logger, string table, string column, int dimensions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Table {Table} has {What}: searches read the whole table until the index is valid.")]
    private static partial void LogNoPrefixIndex(ILogger logger, string table, string what);
}
