using Mrl.Adapters.Pgvector;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.VectorData.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}

[Collection(PostgresGroup.Name)]
public sealed class PgvectorVectorDataTests(PostgresFixture postgres) : VectorDataConformanceTests
{
    protected override IAdaptiveStoreFactory CreateFactory()
    {
        postgres.RequireServer();
        return new PgvectorAdaptiveStoreFactory(postgres.DataSource);
    }

    [SkippableFact]
    public async Task Deleting_a_collection_named_like_an_application_table_refuses_and_leaves_the_table()
    {
        postgres.RequireServer();
        var users = postgres.NewTableName("users");
        await using (var create = postgres.DataSource.CreateCommand($"CREATE TABLE \"{users}\" (id bigint PRIMARY KEY, email text); INSERT INTO \"{users}\" VALUES (1, 'a@example.com')"))
        {
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            var store = new AdaptiveVectorStore(CreateFactory());

            var error = await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => store.EnsureCollectionDeletedAsync(users));

            Assert.IsType<InvalidOperationException>(error.InnerException);
            Assert.Contains("is not a collection", error.InnerException!.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(users, await store.ListCollectionNamesAsync().ToListAsync());
            await using var count = postgres.DataSource.CreateCommand($"SELECT count(*) FROM \"{users}\"");
            Assert.Equal(1L, await count.ExecuteScalarAsync());
        }
        finally
        {
            await using var drop = postgres.DataSource.CreateCommand($"DROP TABLE IF EXISTS \"{users}\"");
            await drop.ExecuteNonQueryAsync();
        }
    }
}
