using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.VectorData.Tests;

public sealed class InMemoryVectorDataTests : VectorDataConformanceTests, IDisposable
{
    private readonly InMemoryAdaptiveStoreFactory _factory = new();

    protected override IAdaptiveStoreFactory CreateFactory() => _factory;

    public void Dispose() => _factory.Dispose();
}
