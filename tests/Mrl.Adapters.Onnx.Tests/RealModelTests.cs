using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

/// <summary>
/// Runs a real sentence-embedding model when <c>MRL_TEST_ONNX_MODEL</c> names a folder with <c>model.onnx</c> and
/// <c>vocab.txt</c> (or <c>onnx/model.onnx</c>, or <c>tokenizer.json</c>). Optional: <c>MRL_TEST_ONNX_POOLING</c>
/// (mean, cls, model), <c>MRL_TEST_ONNX_LAYER_NORM</c> (true for nomic-embed-text-v1.5),
/// <c>MRL_TEST_ONNX_QUERY_PREFIX</c> and <c>MRL_TEST_ONNX_DOCUMENT_PREFIX</c>.
/// </summary>
public sealed class RealModelTests
{
    private static readonly string[] Related =
    [
        "A man is playing a guitar on stage.",
        "Someone performs music with a guitar in front of an audience.",
    ];

    private static readonly string[] Unrelated =
    [
        "The central bank raised interest rates to fight inflation.",
        "Preheat the oven before baking the bread.",
        "The spacecraft entered orbit around Mars.",
    ];

    [SkippableFact]
    public async Task At_256_dimensions_related_sentences_are_more_similar_than_unrelated_ones()
    {
        var directory = Environment.GetEnvironmentVariable("MRL_TEST_ONNX_MODEL");
        Skip.If(string.IsNullOrWhiteSpace(directory), "MRL_TEST_ONNX_MODEL is not set: no real ONNX model to run.");

        using var generator = OnnxEmbeddingGenerator.FromDirectory(directory!, new()
        {
            Pooling = Environment.GetEnvironmentVariable("MRL_TEST_ONNX_POOLING")?.ToUpperInvariant() switch
            {
                "CLS" => OnnxPooling.Cls,
                "MODEL" => OnnxPooling.ModelOutput,
                _ => OnnxPooling.Mean,
            },
            LayerNormBeforeTruncation = bool.TryParse(Environment.GetEnvironmentVariable("MRL_TEST_ONNX_LAYER_NORM"), out var layerNorm) && layerNorm,
            QueryPrefix = Environment.GetEnvironmentVariable("MRL_TEST_ONNX_QUERY_PREFIX"),
            DocumentPrefix = Environment.GetEnvironmentVariable("MRL_TEST_ONNX_DOCUMENT_PREFIX"),
        });
        var dimensions = Math.Min(256, generator.ModelDimensions);

        var vectors = await generator.GenerateAsync(Related.Concat(Unrelated), new EmbeddingGenerationOptions { Dimensions = dimensions });

        Assert.All(vectors, v => Assert.Equal(dimensions, v.Dimensions));
        var related = TensorPrimitives.Dot(vectors[0].Vector.Span, vectors[1].Vector.Span);
        for (var i = 0; i < Unrelated.Length; i++)
        {
            foreach (var anchor in new[] { 0, 1 })
            {
                var unrelated = TensorPrimitives.Dot(vectors[anchor].Vector.Span, vectors[Related.Length + i].Vector.Span);
                Assert.True(related > unrelated,
                    $"At {dimensions} dimensions, related similarity {related} is not above {unrelated} for \"{Related[anchor]}\" vs \"{Unrelated[i]}\".");
            }
        }
    }
}
