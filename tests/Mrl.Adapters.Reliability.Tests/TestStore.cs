using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;
using Npgsql;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>
/// A pgvector store of long keys on a fresh table of the fixture's database, its schema ensured, with a logger that records
/// its retries. Disposing it disposes the store and the data source made for it, if any.
/// </summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly NpgsqlDataSource? _ownDataSource;

    private TestStore(PgvectorAdaptiveStore<long> store, RecordingLogger<PgvectorAdaptiveStore<long>> logger, string table, NpgsqlDataSource? ownDataSource)
    {
        Store = store;
        Logger = logger;
        Table = table;
        _ownDataSource = ownDataSource;
    }

    public PgvectorAdaptiveStore<long> Store { get; }

    public RecordingLogger<PgvectorAdaptiveStore<long>> Logger { get; }

    public string Table { get; }

    /// <summary>
    /// A store on <paramref name="dataSource"/>, or on the fixture's when null; skips the calling test when there is no server.
    /// </summary>
    /// <param name="configure">Sets the options other than <see cref="PgvectorStoreOptions.Table"/>.</param>
    public static Task<TestStore> CreateAsync(
        PostgresFixture postgres, string tablePrefix, EmbeddingLayout layout, Action<PgvectorStoreOptions>? configure = null, NpgsqlDataSource? dataSource = null) =>
        CreateAsync(postgres, tablePrefix, layout, configure, _ => dataSource ?? postgres.DataSource, ownsDataSource: false);

    /// <summary>
    /// A store on a data source of its own whose connections carry the table's name (see <see cref="TestRows.Tagged"/>), so a
    /// test can find and terminate them; skips the calling test when there is no server.
    /// </summary>
    /// <param name="configure">Sets the options other than <see cref="PgvectorStoreOptions.Table"/>.</param>
    /// <param name="connection">Sets the data source's connection string.</param>
    public static Task<TestStore> CreateTaggedAsync(
        PostgresFixture postgres, string tablePrefix, EmbeddingLayout layout, Action<PgvectorStoreOptions>? configure = null, Action<NpgsqlConnectionStringBuilder>? connection = null) =>
        CreateAsync(postgres, tablePrefix, layout, configure, table => TestRows.Tagged(postgres.ConnectionString, table, connection), ownsDataSource: true);

    public void Deconstruct(out PgvectorAdaptiveStore<long> store, out RecordingLogger<PgvectorAdaptiveStore<long>> logger, out string table) =>
        (store, logger, table) = (Store, Logger, Table);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        if (_ownDataSource is not null)
        {
            await _ownDataSource.DisposeAsync();
        }
    }

    private static async Task<TestStore> CreateAsync(
        PostgresFixture postgres, string tablePrefix, EmbeddingLayout layout, Action<PgvectorStoreOptions>? configure, Func<string, NpgsqlDataSource> dataSourceFor, bool ownsDataSource)
    {
        postgres.RequireServer();
        var table = postgres.NewTableName(tablePrefix);
        var options = new PgvectorStoreOptions { Table = table };
        configure?.Invoke(options);
        var dataSource = dataSourceFor(table);
        var logger = new RecordingLogger<PgvectorAdaptiveStore<long>>();
        var test = new TestStore(new PgvectorAdaptiveStore<long>(dataSource, layout, options, logger), logger, table, ownsDataSource ? dataSource : null);
        try
        {
            await test.Store.EnsureSchemaAsync();
        }
        catch
        {
            await test.DisposeAsync();
            throw;
        }

        return test;
    }
}
