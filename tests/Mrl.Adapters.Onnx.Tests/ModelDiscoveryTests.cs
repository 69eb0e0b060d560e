using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class ModelDiscoveryTests
{
    [Fact]
    public void Names_are_discovered_for_a_model_with_token_types_and_a_hidden_state_output()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], generator.Signature.InputNames());
        Assert.Equal("last_hidden_state", generator.Signature.OutputName);
        Assert.False(generator.Signature.OutputIsPooled);
        Assert.Equal(64, generator.ModelDimensions);
        Assert.Equal("base", generator.ModelId);
    }

    [Fact]
    public void A_model_without_token_types_gets_only_ids_and_mask()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Pooled, new() { Pooling = OnnxPooling.Mean });

        Assert.Equal(["input_ids", "attention_mask"], generator.Signature.InputNames());
        Assert.Equal("token_embeddings", generator.Signature.OutputName);
    }

    [Fact]
    public void Without_a_pooling_option_a_sentence_transformers_export_pools_by_itself()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Pooled);

        Assert.Equal(OnnxPooling.ModelOutput, generator.Description.Pooling);
        Assert.Equal("model output", generator.Description.PoolingSource);
        Assert.Equal("sentence_embedding", generator.Signature.OutputName);
    }

    [Fact]
    public void Model_output_pooling_finds_the_sentence_embedding()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Pooled, new() { Pooling = OnnxPooling.ModelOutput });

        Assert.Equal("sentence_embedding", generator.Signature.OutputName);
        Assert.True(generator.Signature.OutputIsPooled);
    }

    [Fact]
    public async Task A_hugging_face_layout_with_the_model_under_onnx_is_found()
    {
        using var directory = new TemporaryDirectory();
        directory.Copy(Path.Combine(Fixtures.Base, "model.onnx"), Path.Combine("onnx", "model.onnx"));
        directory.Copy(Fixtures.Vocabulary, "vocab.txt");
        using var fromLayout = OnnxEmbeddingGenerator.FromDirectory(directory.Path, new() { ModelId = "my-model" });
        using var fromFixture = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        var a = await fromLayout.GenerateAsync(Fixtures.Sentences);
        var b = await fromFixture.GenerateAsync(Fixtures.Sentences);

        Assert.Equal(b.Select(e => e.Vector.ToArray()), a.Select(e => e.Vector.ToArray()));
        Assert.Equal("my-model", a[0].ModelId);
    }

    [Fact]
    public async Task Vocab_txt_and_tokenizer_json_give_the_same_embeddings()
    {
        using var fromVocabulary = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        using var fromJson = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { TokenizerPath = Fixtures.TokenizerJson });

        var a = await fromVocabulary.GenerateAsync(Fixtures.Sentences);
        var b = await fromJson.GenerateAsync(Fixtures.Sentences);

        Assert.Equal(a.Select(e => e.Vector.ToArray()), b.Select(e => e.Vector.ToArray()));
    }

    [Fact]
    public void The_caller_options_are_copied_not_changed()
    {
        var options = new OnnxEmbeddingGeneratorOptions { BatchSize = 3 };
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, options);

        Assert.Null(options.ModelDirectory);
    }

    [Fact]
    public void Metadata_names_the_provider_model_and_dimensions()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { Dimensions = 32 });

        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();

        Assert.NotNull(metadata);
        Assert.Equal("onnxruntime", metadata.ProviderName);
        Assert.Equal("base", metadata.DefaultModelId);
        Assert.Equal(32, metadata.DefaultModelDimensions);
        Assert.Same(generator, generator.GetService<OnnxEmbeddingGenerator>());
        Assert.Null(generator.GetService<OnnxEmbeddingGenerator>("some key"));
    }

    [Fact]
    public void Session_options_are_accepted()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new()
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
        });

        Assert.Equal(64, generator.ModelDimensions);
    }
}
