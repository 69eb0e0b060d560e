using Microsoft.Extensions.DependencyInjection;
using Mrl.Adapters.InMemory;

namespace Mrl.Adapters.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public void A_second_store_for_the_same_key_type_without_a_service_key_is_an_error()
    {
        var services = new ServiceCollection().AddInMemoryAdaptiveStore<long>(new EmbeddingLayout(8, 2));

        var error = Assert.Throws<InvalidOperationException>(() => services.AddInMemoryAdaptiveStore<long>(new EmbeddingLayout(16, 4)));

        Assert.Contains("IAdaptiveStore<Int64> is already registered without a service key", error.Message, StringComparison.Ordinal);
        services.AddInMemoryAdaptiveStore<Guid>(new EmbeddingLayout(16, 4));
    }

    [Fact]
    public void Stores_under_their_own_service_keys_resolve_to_their_own_instances()
    {
        using var provider = new ServiceCollection()
            .AddKeyedInMemoryAdaptiveStore<long>("small", new EmbeddingLayout(8, 2))
            .AddKeyedInMemoryAdaptiveStore<long>("large", new EmbeddingLayout(64, 16))
            .AddInMemoryAdaptiveStore<long>(new EmbeddingLayout(32, 8))
            .BuildServiceProvider();

        var small = provider.GetRequiredKeyedService<IAdaptiveStore<long>>("small");
        var large = provider.GetRequiredKeyedService<IAdaptiveStore<long>>("large");

        Assert.Equal(8, small.Layout.FullDimensions);
        Assert.Equal(64, large.Layout.FullDimensions);
        Assert.Equal(32, provider.GetRequiredService<IAdaptiveStore<long>>().Layout.FullDimensions);
        Assert.Same(small, provider.GetRequiredKeyedService<InMemoryAdaptiveStore<long>>("small"));
        Assert.Throws<InvalidOperationException>(() => new ServiceCollection()
            .AddKeyedInMemoryAdaptiveStore<long>("small", new EmbeddingLayout(8, 2))
            .AddKeyedInMemoryAdaptiveStore<long>("small", new EmbeddingLayout(8, 2)));
    }
}
