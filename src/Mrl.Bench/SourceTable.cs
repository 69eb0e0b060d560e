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
internal sealed record SourceTableOptions(string ConnectionString, string Table, string KeyColumn, string VectorColumn);

/// <summary>
/// Reads a table with one <c>SELECT</c> in a read-only transaction and splits its rows: <c>queries</c> rows chosen at
/// random (by the seed) become the queries and are held out of the base vectors, so that no query finds itself, and the
/// exact truth is computed in process from the rest. The table is never altered: the benchmark backends load their own copy.
/// </summary>
internal static class SourceTable
{
    public static async Task<BenchDataset> ReadAsync(
        SourceTableOptions options, int queries, int? maxRows, int seed, DistanceMetric metric, Action<int> rowsRead, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1, "--queries");
        var (schema, table) = SqlIdentifier.ParseQualified(options.Table);
        var qualified = SqlIdentifier.Qualified(schema, table);
        var key = SqlIdentifier.Quote(options.KeyColumn, "key column");
        var vector = SqlIdentifier.Quote(options.VectorColumn, "vector column");

        // halfvec reads through vector, so one cast serves both column types.
        var sql = $"SELECT {key}::text, {vector}::vector::real[] FROM {qualified} WHERE {vector} IS NOT NULL ORDER BY {key} LIMIT @limit";
        var rows = new List<float[]>();
        await using (var dataSource = PgvectorDataSource.Create(options.ConnectionString))
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
            {
                await readOnly.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.AddWithValue("limit", (object?)(long?)maxRows ?? DBNull.Value);
            try
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var values = reader.GetFieldValue<float[]>(1);
                    if (rows.Count > 0 && values.Length != rows[0].Length)
                    {
                        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                            $"{options.Table}: the row {options.KeyColumn} = {reader.GetString(0)} has {values.Length} dimensions, the rows before it {rows[0].Length}; the column must hold one size."));
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

            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
        }

        rowsRead(rows.Count);
        if (rows.Count <= queries)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"--source-table {options.Table} has {rows.Count} rows with a vector; {queries} are held out as queries, so it needs more rows than that. Lower --queries (or --sample)."));
        }

        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        var isQuery = new bool[rows.Count];
        foreach (var row in order.AsSpan(0, queries))
        {
            isQuery[row] = true;
        }

        var d = rows[0].Length;
        var queryValues = new float[queries * d];
        var baseValues = new float[(rows.Count - queries) * d];
        int q = 0, b = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            if (isQuery[i])
            {
                rows[i].CopyTo(queryValues, q++ * d);
            }
            else
            {
                rows[i].CopyTo(baseValues, b++ * d);
            }
        }

        var description = string.Create(CultureInfo.InvariantCulture,
            $"table {options.Table}: {b:N0} x {d}, {q:N0} queries held out from its rows, {metric}");
        return new BenchDataset(description, new VectorMatrix<float>(baseValues, b, d), new VectorMatrix<float>(queryValues, q, d), metric, givenTruth: null);
    }
}
