using Microsoft.Extensions.DependencyInjection;

namespace Mrl.Adapters.Pgvector.Tests;

public sealed class PgvectorRegistrationTests
{
    [Fact]
    public void A_provider_with_a_pgvector_store_can_be_disposed_synchronously()
    {
        var provider = new ServiceCollection()
            .AddPgvectorAdaptiveStore<long>(new EmbeddingLayout(32, 8), o => { o.ConnectionString = "Host=127.0.0.1;Port=1"; o.Table = "docs"; })
            .BuildServiceProvider();
        var store = provider.GetRequiredService<IAdaptiveStore<long>>();

        provider.Dispose();

        Assert.IsType<PgvectorAdaptiveStore<long>>(store);
    }

    [Fact]
    public void A_pgvector_store_beside_an_in_memory_one_for_the_same_keys_needs_a_service_key()
    {
        var services = new ServiceCollection().AddInMemoryAdaptiveStore<long>(new EmbeddingLayout(32, 8));

        Assert.Throws<InvalidOperationException>(() => services.AddPgvectorAdaptiveStore<long>(new EmbeddingLayout(32, 8), o => o.Table = "docs"));
        services.AddKeyedPgvectorAdaptiveStore<long>("pg", new EmbeddingLayout(32, 8), o => { o.ConnectionString = "Host=127.0.0.1;Port=1"; o.Table = "docs"; });
        using var provider = services.BuildServiceProvider();
        Assert.IsType<PgvectorAdaptiveStore<long>>(provider.GetRequiredKeyedService<IAdaptiveStore<long>>("pg"));
    }
}
