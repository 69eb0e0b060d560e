using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Mrl.Adapters;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.VectorData;
using VectorData.ConformanceTests.Support;

namespace Conf.InMemory;

public sealed class InMemoryTestStore : TestStore
{
    public static InMemoryTestStore Instance { get; } = new();

    public InMemoryAdaptiveStoreFactory Factory { get; } = new();

    public static IAdaptiveStoreFactory CreateOfflineFactory() => new InMemoryAdaptiveStoreFactory();

    public VectorStore CreateVectorStore(IEmbeddingGenerator? generator) => new AdaptiveVectorStore(Factory, new() { EmbeddingGenerator = generator });

    protected override Task StartAsync()
    {
        DefaultVectorStore = new AdaptiveVectorStore(Factory);
        return Task.CompletedTask;
    }
}
