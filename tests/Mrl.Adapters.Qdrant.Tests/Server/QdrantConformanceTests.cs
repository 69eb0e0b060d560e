using System.Globalization;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Qdrant.Tests.Server;

// The conformance suite against a Qdrant server, one fresh collection per test; skipped with the fixture's reason when
// there is no server (no MRL_TEST_QDRANT_URL and no Docker engine).

[Collection(QdrantServer.Name)]
public sealed class QdrantConformanceTestsWithLongKeys(QdrantFixture qdrant) : AdaptiveStoreConformanceTests<long>
{
    protected override async Task<IAdaptiveStore<long>> CreateStoreAsync(EmbeddingLayout layout) =>
        await QdrantServer.CreateStoreAsync<long>(qdrant, layout);

    protected override long KeyFor(int i) => i + 1;
}

[Collection(QdrantServer.Name)]
public sealed class QdrantConformanceTestsWithGuidKeys(QdrantFixture qdrant) : AdaptiveStoreConformanceTests<Guid>
{
    protected override async Task<IAdaptiveStore<Guid>> CreateStoreAsync(EmbeddingLayout layout) =>
        await QdrantServer.CreateStoreAsync<Guid>(qdrant, layout);

    protected override Guid KeyFor(int i) => new(i, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8);
}

[Collection(QdrantServer.Name)]
public sealed class QdrantConformanceTestsWithStringKeys(QdrantFixture qdrant) : AdaptiveStoreConformanceTests<string>
{
    protected override async Task<IAdaptiveStore<string>> CreateStoreAsync(EmbeddingLayout layout) =>
        await QdrantServer.CreateStoreAsync<string>(qdrant, layout);

    protected override string KeyFor(int i) => "doc-" + i.ToString("D4", CultureInfo.InvariantCulture);
}
