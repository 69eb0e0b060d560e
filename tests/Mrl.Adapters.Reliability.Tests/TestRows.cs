using System.Text.Json;
using Npgsql;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// Records whose vector is a pure function of (key, generation), so that what the table holds can be checked value by value:
/// a row either holds exactly the vector of one generation that was written, or something went wrong.
/// </summary>
internal static class TestRows
{
    public static float[] Vector(long key, int generation, int dimensions)
    {
        var random = new Random(unchecked((int)(key * 1_000_003 + generation * 7_919 + 17)));
        var vector = new float[dimensions];
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
        }

        vector[0] += 2f;
        return vector;
    }

    public static VectorRecord<long> Record(long key, int generation, int dimensions) =>
        new(key, Vector(key, generation, dimensions), JsonSerializer.SerializeToElement(new { g = generation }));

    public static VectorRecord<long>[] Records(long firstKey, int count, int generation, int dimensions) =>
        Enumerable.Range(0, count).Select(i => Record(firstKey + i, generation, dimensions)).ToArray();

    /// <summary>Every row of a store table: key, full vector, generation (from the payload).</summary>
    public static async Task<Dictionary<long, (float[] Vector, int Generation)>> ReadAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var command = dataSource.CreateCommand($"SELECT id, embedding, (payload->>'g')::int FROM \"{table}\"");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<long, (float[], int)>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetInt64(0), (reader.GetFieldValue<global::Pgvector.Vector>(1).ToArray(), reader.GetInt32(2)));
        }

        return rows;
    }

    /// <summary>Whether the row holds exactly the vector of its own generation.</summary>
    public static bool HoldsItsGeneration(long key, (float[] Vector, int Generation) row) =>
        row.Vector.AsSpan().SequenceEqual(Vector(key, row.Generation, row.Vector.Length));

    public static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A data source to the fixture's database whose connections carry <paramref name="applicationName"/>, so a test can find (and terminate) them.</summary>
    public static NpgsqlDataSource Tagged(string connectionString, string applicationName, Action<NpgsqlConnectionStringBuilder>? configure = null)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = applicationName };
        configure?.Invoke(builder);
        return Pgvector.PgvectorDataSource.Create(builder.ConnectionString);
    }
}
