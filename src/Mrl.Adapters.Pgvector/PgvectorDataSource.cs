using Npgsql;

namespace Mrl.Adapters.Pgvector;

/// <summary>Data sources with pgvector's types mapped, as the store and the migrator need them.</summary>
public static class PgvectorDataSource
{
    /// <summary>Builds a data source for <paramref name="connectionString"/> with <c>UseVector()</c> applied.</summary>
    public static NpgsqlDataSource Create(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        return builder.Build();
    }
}
