using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Mrl.Adapters;
using Mrl.Adapters.Pgvector;
using Mrl.Adapters.VectorData;
using Npgsql;
using VectorData.ConformanceTests.Support;

namespace Conf.Pg;

public sealed class PgvectorTestStore : TestStore
{
    private NpgsqlDataSource? _dataSource;

    public static PgvectorTestStore Instance { get; } = new();

    public IAdaptiveStoreFactory Factory { get; private set; } = null!;

    // Registration tests resolve services without touching the database.
    public static IAdaptiveStoreFactory CreateOfflineFactory() =>
        new PgvectorAdaptiveStoreFactory(PgvectorDataSource.Create("Host=localhost;Database=test"));

    public VectorStore CreateVectorStore(IEmbeddingGenerator? generator) => new AdaptiveVectorStore(Factory, new() { EmbeddingGenerator = generator });

    protected override async Task StartAsync()
    {
        var server = Environment.GetEnvironmentVariable("MRL_TEST_POSTGRES")
            ?? throw new InvalidOperationException("Set MRL_TEST_POSTGRES to a PostgreSQL server with pgvector.");
        var database = Environment.GetEnvironmentVariable("MRL_CONFORMANCE_DATABASE") ?? "mrl_conformance";
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(server) { Database = database };
        await using (var setup = new NpgsqlConnection(builder.ConnectionString))
        {
            await setup.OpenAsync();
            await using var ext = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS vector", setup);
            await ext.ExecuteNonQueryAsync();
        }

        _dataSource = PgvectorDataSource.Create(builder.ConnectionString);
        Factory = new PgvectorAdaptiveStoreFactory(_dataSource);
        DefaultVectorStore = new AdaptiveVectorStore(Factory);
    }

    protected override async Task StopAsync()
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
