using System.Globalization;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Npgsql;

namespace Mrl.Bench;

/// <summary>A user's existing pgvector table, read (never written) as benchmark data.</summary>
/// <param name="ConnectionString">The server.</param>
/// <param name="Table">The table, <c>name</c> or <c>schema.name</c>.</param>
/// <param name="KeyColumn">The column rows are ordered by, so that the same table gives the same sample.</param>
/// <param name="VectorColumn">The full-vector column, <c>vector</c> or <c>halfvec</c>.</param>
/// <param name="ScopeColumn">
/// The column that tells collections in one table apart (LangChain: <c>collection_id</c>), or null to read every row.
/// </param>
/// <param name="ScopeValue">The collection's value of <paramref name="ScopeColumn"/>: only its rows are read.</param>
internal sealed record SourceTableOptions(
    string ConnectionString, string Table, string KeyColumn, string VectorColumn, string? ScopeColumn = null, string? ScopeValue = null)
{
    /// <summary>The table as the report names it, with the collection when the read is scoped to one.</summary>
    public string Name => ScopeColumn is null ? Table : $"{Table} ({ScopeColumn} = {ScopeValue})";
}

/// <summary>
/// Reads a table with one <c>SELECT</c> in a read-only transaction and splits its rows: <c>queries</c> rows chosen at
/// random (by the seed) become the queries and are held out of the base vectors, so that no query finds itself, and the
/// exact truth is computed in process from the rest. The table is never altered: the benchmark backends load their own copy.
/// Scoped to one collection, only that collection's rows are read, so that collections of other sizes in an untyped
/// <c>vector</c> column do not mix.
/// </summary>
internal static class SourceTable
{
    public static async Task<BenchDataset> ReadAsync(
        SourceTableOptions options, int queries, int? maxRows, int seed, DistanceMetric metric, Action<int> rowsRead, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1, "--queries");
        if ((options.ScopeColumn is null) != (options.ScopeValue is null))
        {
            throw new ArgumentException("Give --scope-column and --scope-value together: the column that tells collections apart, and the collection's value of it.");
        }

        var (schema, table) = SqlIdentifier.ParseQualified(options.Table);
        var qualified = SqlIdentifier.Qualified(schema, table);
        var key = SqlIdentifier.Quote(options.KeyColumn, "key column");
        var vector = SqlIdentifier.Quote(options.VectorColumn, "vector column");

        // halfvec reads through vector, so one cast serves both column types. The scope value goes as a parameter of
        // unknown type, so that the server reads it as the column's own type (uuid, bigint, text) and compares like with like.
        var scope = options.ScopeColumn is { } scopeColumn ? $" AND {SqlIdentifier.Quote(scopeColumn, "scope column")} = @scope" : "";
        var sql = $"SELECT {key}::text, {vector}::vector::real[] FROM {qualified} WHERE {vector} IS NOT NULL{scope} ORDER BY {key} LIMIT @limit";
        var rows = new List<float[]>();
        await using (var dataSource = PgvectorDataSource.Create(options.ConnectionString))
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
            {
                await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (options.ScopeColumn is { } column)
            {
                await RequireColumnAsync(connection, transaction, qualified, options, column, cancellationToken).ConfigureAwait(false);
            }

            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("limit", (object?)(long?)maxRows ?? DBNull.Value);
            if (options.ScopeValue is { } value)
            {
                command.Parameters.Add(new NpgsqlParameter("scope", NpgsqlTypes.NpgsqlDbType.Unknown) { Value = value });
            }

            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var values = reader.GetFieldValue<float[]>(1);
                    if (rows.Count > 0 && values.Length != rows[0].Length)
                    {
                        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                            $"{options.Name}: the row {options.KeyColumn} = {reader.GetString(0)} has {values.Length} dimensions, the rows before it {rows[0].Length}; the rows read must hold one size{(options.ScopeColumn is null ? " (for a table shared by several collections, read one with --scope-column and --scope-value)" : "")}."));
                    }

                    rows.Add(values);
                    if (rows.Count % 10_000 == 0)
                    {
                        rowsRead(rows.Count);
                    }
                }
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.UndefinedColumn or PostgresErrorCodes.InvalidSchemaName)
            {
                throw new ArgumentException(
                    $"--source-table {options.Table}: {e.MessageText}. Name the table with --source-table, its key with --key-column and its vectors with --vector-column.", e);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidTextRepresentation or PostgresErrorCodes.NumericValueOutOfRange)
            {
                throw new ArgumentException($"--scope-value '{options.ScopeValue}' is not a value of the column {options.ScopeColumn}: {e.MessageText}.", e);
            }

            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        rowsRead(rows.Count);
        if (rows.Count <= queries)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--source-table {options.Name} has {rows.Count} rows with a vector; {queries} are held out as queries, so it needs more rows than that. Lower --queries (or --sample)."));
        }

        return BenchDataset.HoldOut(rows.ConvertAll(r => (ReadOnlyMemory<float>)r), queries, seed, metric,
            (b, d, q) => string.Create(CultureInfo.InvariantCulture, $"table {options.Name}: {b:N0} x {d}, {q:N0} queries held out from its rows, {metric}"));
    }

    // A misspelt scope column would otherwise read as "column does not exist" with no hint of which option named it.
    private static async Task RequireColumnAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string qualified, SourceTableOptions options, string column, CancellationToken cancellationToken)
    {
        const string Columns = "SELECT attname::text FROM pg_catalog.pg_attribute WHERE attrelid = pg_catalog.to_regclass(@table) AND attnum > 0 AND NOT attisdropped ORDER BY attnum";
        await using var command = new NpgsqlCommand(Columns, connection, transaction);
        command.Parameters.AddWithValue("table", qualified);
        var names = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                names.Add(reader.GetString(0));
            }
        }

        // No columns: the table itself is missing, which the SELECT reports with the usual advice.
        if (names.Count > 0 && !names.Contains(column, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"--scope-column: {options.Table} has no column '{column}' (its columns: {string.Join(", ", names)}). Pass the column that tells collections apart, e.g. collection_id for a LangChain table.");
        }
    }
}
