using System.Globalization;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Pgvector.Tests;

/// <summary>Creates a fresh table for each conformance test.</summary>
public abstract class PgvectorConformanceTests<TKey>(PostgresFixture postgres, PrefixStorage prefixStorage) : AdaptiveStoreConformanceTests<TKey>
    where TKey : notnull
{
    protected override async Task<IAdaptiveStore<TKey>> CreateStoreAsync(EmbeddingLayout layout)
    {
        postgres.RequireServer();
        var options = new PgvectorStoreOptions { Table = postgres.NewTableName("conf"), PrefixStorage = prefixStorage };
        var store = new PgvectorAdaptiveStore<TKey>(postgres.DataSource, layout, options);
        await store.EnsureSchemaAsync();
        return store;
    }
}

[Collection(PostgresGroup.Name)]
public sealed class PgvectorColumnConformanceTestsWithLongKeys(PostgresFixture postgres) : PgvectorConformanceTests<long>(postgres, PrefixStorage.Column)
{
    protected override long KeyFor(int i) => i + 1;
}

[Collection(PostgresGroup.Name)]
public sealed class PgvectorColumnConformanceTestsWithGuidKeys(PostgresFixture postgres) : PgvectorConformanceTests<Guid>(postgres, PrefixStorage.Column)
{
    protected override Guid KeyFor(int i) => new(i, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8);
}

[Collection(PostgresGroup.Name)]
public sealed class PgvectorColumnConformanceTestsWithStringKeys(PostgresFixture postgres) : PgvectorConformanceTests<string>(postgres, PrefixStorage.Column)
{
    protected override string KeyFor(int i) => "doc-" + i.ToString("D4", CultureInfo.InvariantCulture);
}

[Collection(PostgresGroup.Name)]
public sealed class PgvectorExpressionConformanceTestsWithLongKeys(PostgresFixture postgres) : PgvectorConformanceTests<long>(postgres, PrefixStorage.Expression)
{
    protected override long KeyFor(int i) => i + 1;
}
