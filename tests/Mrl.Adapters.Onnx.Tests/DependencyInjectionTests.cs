using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class DependencyInjectionTests
{
    [Fact]
    public async Task The_generator_is_one_shared_singleton_behind_the_abstraction()
    {
        var services = new ServiceCollection();
        services.AddOnnxEmbeddingGenerator(Fixtures.Base, options => options.Dimensions = 16);
        await using var provider = services.BuildServiceProvider();

        var abstraction = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        var concrete = provider.GetRequiredService<OnnxEmbeddingGenerator>();
        var vector = await abstraction.GenerateVectorAsync("the cat sat");

        Assert.Same(concrete, abstraction);
        Assert.Equal(16, vector.Length);
    }

    [Fact]
    public void Registration_with_a_configure_action_reads_the_options()
    {
        var services = new ServiceCollection();
        services.AddOnnxEmbeddingGenerator(options =>
        {
            options.ModelDirectory = Fixtures.Pooled;
            options.Pooling = OnnxPooling.ModelOutput;
        });
        using var provider = services.BuildServiceProvider();

        var generator = provider.GetRequiredService<OnnxEmbeddingGenerator>();

        Assert.Equal("sentence_embedding", generator.Signature.OutputName);
    }
}
