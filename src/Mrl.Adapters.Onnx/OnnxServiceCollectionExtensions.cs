using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mrl.Adapters.Onnx;

/// <summary>Registers the ONNX embedding generator.</summary>
public static class OnnxServiceCollectionExtensions
{
    /// <summary>
    /// Registers one shared <see cref="OnnxEmbeddingGenerator"/>, also as <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>
    /// of <see cref="string"/> and <see cref="Embedding{T}"/> of <see cref="float"/>, configured through
    /// <see cref="IOptions{TOptions}"/> of <see cref="OnnxEmbeddingGeneratorOptions"/>. The model loads on first use.
    /// </summary>
    public static IServiceCollection AddOnnxEmbeddingGenerator(this IServiceCollection services, Action<OnnxEmbeddingGeneratorOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<OnnxEmbeddingGeneratorOptions>().Configure(configure);
        services.TryAddSingleton(sp => new OnnxEmbeddingGenerator(
            sp.GetRequiredService<IOptions<OnnxEmbeddingGeneratorOptions>>().Value,
            sp.GetService<ILogger<OnnxEmbeddingGenerator>>()));
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<OnnxEmbeddingGenerator>());
        return services;
    }

    /// <summary>Registers the generator for the model in <paramref name="modelDirectory"/> (see <see cref="OnnxEmbeddingGenerator.FromDirectory"/>).</summary>
    public static IServiceCollection AddOnnxEmbeddingGenerator(this IServiceCollection services, string modelDirectory, Action<OnnxEmbeddingGeneratorOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelDirectory);
        return services.AddOnnxEmbeddingGenerator(options =>
        {
            options.ModelDirectory = modelDirectory;
            configure?.Invoke(options);
        });
    }
}
