using System.Globalization;
using Mrl.Adapters.Pgvector;
using Npgsql;

namespace Mrl.Bench;

// Reusing the table and indexes an earlier run left (--keep-table), after checking that they hold this data and were built
// with this run's parameters: a 1,000,000-row load and its builds take an hour, the measurements minutes.
internal sealed partial class PostgresBenchBackend
{
    // Rows compared value by value with the data: the first, the middle and the last.
    private const double SpotCheckTolerance = 2e-3;

    private const string IndexState = """
        SELECT i.indisvalid, pg_catalog.array_to_string(c.reloptions, ','), pg_catalog.pg_relation_size(c.oid)
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
        WHERE c.oid = pg_catalog.to_regclass($1)
        """;

    /// <summary>
    /// Takes over the existing table when it holds this data and every index this run needs; returns false, having changed
    /// nothing, when there is no table. Throws, naming the difference, when there is one that does not match.
    /// </summary>
    private async Task<bool> TryReuseAsync(PgvectorMaintenance maintenance, IReadOnlyList<int> prefixDims, CancellationToken cancellationToken)
    {
        if (!await maintenance.TableExistsAsync(cancellationToken))
        {
            return false;
        }

        var table = SqlIdentifier.Qualified(_schema, _table);
        _sql = new PostgresBenchSql(StoreOptions(prefixDims[0]), Layout(prefixDims[0]), await ReadPgvectorSchemaAsync(cancellationToken));
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await CheckRowsAsync(connection, table, cancellationToken);

        foreach (var p in prefixDims)
        {
            var options = StoreOptions(p);
            var (valid, bytes) = await ReadIndexAsync(connection, options.ResolvedIndexName(p), _options.HnswM, _options.HnswEfConstruction, cancellationToken);
            if (!valid)
            {
                throw Mismatch($"it has no valid HNSW index on {options.PrefixColumn} with m = {_options.HnswM}, ef_construction = {_options.HnswEfConstruction}");
            }

            _builds.Add(new IndexBuildRecord(Name, options.ResolvedIndexName(p), p, null, bytes, null, null));
        }

        if (!Features.Unsupported.ContainsKey(BenchStrategy.Full))
        {
            var (valid, bytes) = await ReadIndexAsync(connection, _sql.FullIndexName, _options.BaselineM, _options.BaselineEfConstruction, cancellationToken);
            if (!valid)
            {
                throw Mismatch($"it has no valid full-dimension HNSW index {_sql.FullIndexName} with m = {_options.BaselineM}, ef_construction = {_options.BaselineEfConstruction}");
            }

            _builds.Add(new IndexBuildRecord(Name, _sql.FullIndexName, null, null, bytes, null, null));
        }

        // The binary quantization index is built when bq-rerank first runs; an earlier run's is taken when its parameters match.
        if (await ReadIndexAsync(connection, _sql.BqIndexName, _options.BaselineM, _options.BaselineEfConstruction, cancellationToken) is (true, var bqBytes))
        {
            _bqBuild = new IndexBuildRecord(Name, _sql.BqIndexName, null, null, bqBytes, null, null, BenchStrategy.BqRerank);
            _builds.Add(_bqBuild);
        }

        return true;

        InvalidOperationException Mismatch(string what) => new(
            $"--reuse-table: {table} does not fit this run: {what}. Run without --reuse-table to load and build it again, or name another --table.");
    }

    private async Task CheckRowsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        var column = SqlIdentifier.Quote(StoreOptions(_prefixDims[0]).VectorColumn);
        await using (var count = new NpgsqlCommand($"SELECT pg_catalog.count(*) FROM {table}", connection) { CommandTimeout = 0 })
        {
            var rows = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
            if (rows != _data.Count)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"--reuse-table: {table} has {rows} rows, this run's data {_data.Count}. Run without --reuse-table to load it again."));
            }
        }

        long[] ids = [0, _data.Count / 2, _data.Count - 1];
        await using var read = new NpgsqlCommand($"SELECT id, CAST({column} AS real[]) FROM {table} WHERE id = ANY($1)", connection);
        read.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = ids });
        var seen = 0;
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            var stored = reader.GetFieldValue<float[]>(1);
            var expected = _data.Base.Row((int)id).Span;
            if (!Matches(stored, expected))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"--reuse-table: row {id} of {table} is not this run's vector {id}: the table holds other data. Run without --reuse-table, or name another --table."));
            }

            seen++;
        }

        if (seen != ids.Length)
        {
            throw new InvalidOperationException($"--reuse-table: {table} lacks some of the ids 0..{_data.Count - 1}: it holds other data. Run without --reuse-table.");
        }
    }

    private static bool Matches(ReadOnlySpan<float> stored, ReadOnlySpan<float> expected)
    {
        if (stored.Length != expected.Length)
        {
            return false;
        }

        for (var i = 0; i < stored.Length; i++)
        {
            if (Math.Abs(stored[i] - expected[i]) > SpotCheckTolerance)
            {
                return false;
            }
        }

        return true;
    }

    private async Task<(bool Valid, long Bytes)> ReadIndexAsync(NpgsqlConnection connection, string name, int m, int efConstruction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(IndexState, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SqlIdentifier.Qualified(_schema, name) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || !reader.GetBoolean(0))
        {
            return (false, 0);
        }

        var options = reader.IsDBNull(1) ? "" : reader.GetString(1);
        var wanted = string.Create(CultureInfo.InvariantCulture, $"m={m}");
        var wantedEf = string.Create(CultureInfo.InvariantCulture, $"ef_construction={efConstruction}");
        var parts = options.Split(',');
        return (parts.Contains(wanted) && parts.Contains(wantedEf), reader.GetInt64(2));
    }
}
