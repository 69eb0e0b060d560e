using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Pgvector.Tests;

[CollectionDefinition(Name)]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
