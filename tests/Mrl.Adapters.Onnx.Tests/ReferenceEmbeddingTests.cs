using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

/// <summary>The generator against embeddings computed by numpy from the same weights, without ONNX Runtime.</summary>
public sealed class ReferenceEmbeddingTests
{
    private const float Tolerance = 1e-4f;

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var reference in Fixtures.References.Cases)
        {
            data.Add(reference.Name);
        }

        return data;
    }

    [Fact]
    public void References_cover_every_pooling_with_and_without_layer_norm_and_truncation()
    {
        var cases = Fixtures.References.Cases;
        foreach (var pooling in new[] { "mean", "cls", "model" })
        {
            foreach (var layerNorm in new[] { false, true })
            {
                Assert.Contains(cases, c => c.Pooling == pooling && c.LayerNorm == layerNorm && c.Dimensions == Fixtures.References.HiddenSize);
                Assert.Contains(cases, c => c.Pooling == pooling && c.LayerNorm == layerNorm && c.Dimensions < Fixtures.References.HiddenSize);
            }
        }

        Assert.Contains(cases, c => c.MaxSequenceLength is not null);
        Assert.Equal(20, Fixtures.References.Sentences.Length);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Embeddings_match_the_numpy_reference_within_1e_4(string name)
    {
        var reference = Fixtures.References.Cases.Single(c => c.Name == name);
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.ModelDirectory(reference.Model), OptionsFor(reference));

        var embeddings = await generator.GenerateAsync(Fixtures.Sentences, new EmbeddingGenerationOptions { Dimensions = reference.Dimensions });

        Assert.Equal(reference.Embeddings.Length, embeddings.Count);
        for (var i = 0; i < embeddings.Count; i++)
        {
            AssertClose(reference.Embeddings[i], embeddings[i].Vector.Span, $"{name}, sentence {i}");
        }
    }

    [Theory]
    [InlineData("base", OnnxPooling.Mean)]
    [InlineData("pooled", OnnxPooling.ModelOutput)]
    public async Task Embedding_one_at_a_time_matches_embedding_in_padded_batches(string model, OnnxPooling pooling)
    {
        var sentences = Fixtures.Sentences;
        using var batched = OnnxEmbeddingGenerator.FromDirectory(Fixtures.ModelDirectory(model), new() { Pooling = pooling, BatchSize = 32 });
        using var single = OnnxEmbeddingGenerator.FromDirectory(Fixtures.ModelDirectory(model), new() { Pooling = pooling, BatchSize = 1 });

        var all = await batched.GenerateAsync(sentences);
        var oneByOne = await single.GenerateAsync(sentences);

        for (var i = 0; i < sentences.Count; i++)
        {
            AssertClose(oneByOne[i].Vector.Span, all[i].Vector.Span, $"sentence {i}", 1e-5f);
        }
    }

    [Fact]
    public async Task Configured_default_dimensions_apply_when_the_request_sets_none()
    {
        var reference = Fixtures.References.Cases.First(c => c.Model == "base" && c.Pooling == "mean" && !c.LayerNorm && c.Dimensions < Fixtures.References.HiddenSize);
        var options = OptionsFor(reference);
        options.Dimensions = reference.Dimensions;
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, options);

        var embeddings = await generator.GenerateAsync(Fixtures.Sentences);

        Assert.Equal(reference.Dimensions, generator.Dimensions);
        Assert.Equal(Fixtures.References.HiddenSize, generator.ModelDimensions);
        AssertClose(reference.Embeddings[0], embeddings[0].Vector.Span, "sentence 0");
    }

    [Fact]
    public async Task Layer_norm_changes_the_embedding_by_more_than_the_tolerance()
    {
        using var plain = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        using var normed = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { LayerNormBeforeTruncation = true });

        var a = (await plain.GenerateAsync(Fixtures.Sentences)).Select(e => e.Vector.ToArray()).ToList();
        var b = (await normed.GenerateAsync(Fixtures.Sentences)).Select(e => e.Vector.ToArray()).ToList();

        var largest = a.Zip(b, (x, y) => x.Zip(y, (p, q) => Math.Abs(p - q)).Max()).Max();
        Assert.True(largest > 10 * Tolerance, $"largest difference {largest}");
    }

    [Fact]
    public async Task Every_embedding_has_unit_length_and_the_model_id()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Pooled, new() { Pooling = OnnxPooling.ModelOutput });

        var embeddings = await generator.GenerateAsync(Fixtures.Sentences, new EmbeddingGenerationOptions { Dimensions = 8 });

        Assert.All(embeddings, e =>
        {
            Assert.Equal(8, e.Dimensions);
            Assert.Equal(1.0, Math.Sqrt(e.Vector.ToArray().Sum(v => (double)v * v)), 5);
            Assert.Equal("pooled", e.ModelId);
        });
        Assert.Equal(Fixtures.References.Sentences.Sum(s => s.Ids.Length), embeddings.Usage?.InputTokenCount);
    }

    internal static OnnxEmbeddingGeneratorOptions OptionsFor(ReferenceCase reference) => new()
    {
        Pooling = reference.OnnxPooling,
        LayerNormBeforeTruncation = reference.LayerNorm,
        MaxSequenceLength = reference.MaxSequenceLength ?? OnnxEmbeddingGeneratorOptions.DefaultMaxSequenceLength,
        // Batches of 7 leave the last batch short and pad every batch differently.
        BatchSize = 7,
    };

    internal static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, float tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (Math.Abs(expected[i] - actual[i]) > tolerance)
            {
                Assert.Fail($"{what}: value {i} is {actual[i]}, expected {expected[i]} within {tolerance}.");
            }
        }
    }
}
