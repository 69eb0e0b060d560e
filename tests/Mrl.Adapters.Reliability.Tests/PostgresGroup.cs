using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Reliability.Tests;

/// <summary>One database for every test that needs PostgreSQL; the tests of the group run one at a time, so faults do not cross.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>
{
    public const string Name = "reliability-postgres";
}
