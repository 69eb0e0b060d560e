using System.Globalization;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.Testing;

namespace Mrl.Adapters.Tests;

public sealed class InMemoryConformanceTestsWithLongKeys : AdaptiveStoreConformanceTests<long>
{
    protected override Task<IAdaptiveStore<long>> CreateStoreAsync(EmbeddingLayout layout) =>
        Task.FromResult<IAdaptiveStore<long>>(new InMemoryAdaptiveStore<long>(layout));

    protected override long KeyFor(int i) => i + 1;
}

public sealed class InMemoryConformanceTestsWithGuidKeys : AdaptiveStoreConformanceTests<Guid>
{
    protected override Task<IAdaptiveStore<Guid>> CreateStoreAsync(EmbeddingLayout layout) =>
        Task.FromResult<IAdaptiveStore<Guid>>(new InMemoryAdaptiveStore<Guid>(layout));

    protected override Guid KeyFor(int i) => new(i, 7, 7, 1, 2, 3, 4, 5, 6, 7, 8);
}

public sealed class InMemoryConformanceTestsWithStringKeys : AdaptiveStoreConformanceTests<string>
{
    protected override Task<IAdaptiveStore<string>> CreateStoreAsync(EmbeddingLayout layout) =>
        Task.FromResult<IAdaptiveStore<string>>(new InMemoryAdaptiveStore<string>(layout));

    protected override string KeyFor(int i) => "doc-" + i.ToString("D4", CultureInfo.InvariantCulture);
}
