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
}
