using System.Globalization;
using Npgsql;

namespace Mrl.Adapters.Testing;

/// <summary>What the tests of LangChain-layout tables share: vector literals, and the exact top-k of one collection by SQL.</summary>
public static class LangChainTables
{
    /// <summary>A pgvector text literal, <c>[v1,v2,...]</c>, round-trippable.</summary>
    public static string Literal(ReadOnlySpan<float> vector)
    {
        var parts = new string[vector.Length];
        for (var i = 0; i < vector.Length; i++)
        {
            parts[i] = vector[i].ToString("R", CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(',', parts) + "]";
    }

    /// <summary>
    /// The exact top 10 of one collection by cosine distance on the full vector, by a sequential scan: the rows of
    /// <paramref name="dims"/> values whose <c>collection_id</c> is <paramref name="collection"/>, keyed by <c>uuid</c>.
    /// </summary>
    public static async Task<Guid[]> BruteForceTop10Async(NpgsqlDataSource dataSource, string quotedTable, Guid collection, int dims, ReadOnlyMemory<float> query)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var command = dataSource.CreateCommand(string.Create(CultureInfo.InvariantCulture,
            $"SELECT uuid FROM {quotedTable} WHERE collection_id = $1 AND vector_dims(embedding) = {dims} ORDER BY embedding::vector({dims}) <=> $2::vector({dims}) LIMIT 10"));
        command.Parameters.Add(new NpgsqlParameter { Value = collection });
        command.Parameters.Add(new NpgsqlParameter { Value = Literal(query.Span) });
        var keys = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            keys.Add(reader.GetGuid(0));
        }

        return keys.ToArray();
    }
}
