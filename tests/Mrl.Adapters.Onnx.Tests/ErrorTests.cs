using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class ErrorTests
{
    [Fact]
    public void A_missing_model_directory_is_named_in_the_error()
    {
        var missing = Path.Combine(Path.GetTempPath(), "mrl-no-such-model-" + Guid.NewGuid().ToString("N"));

        var error = Assert.Throws<DirectoryNotFoundException>(() => OnnxEmbeddingGenerator.FromDirectory(missing));
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_without_a_model_says_which_files_were_looked_for()
    {
        using var directory = new TemporaryDirectory();
        directory.Copy(Fixtures.Vocabulary, "vocab.txt");

        var error = Assert.Throws<FileNotFoundException>(() => OnnxEmbeddingGenerator.FromDirectory(directory.Path));
        Assert.Contains("model.onnx", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(OnnxEmbeddingGeneratorOptions.ModelPath), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_without_a_tokenizer_says_which_files_were_looked_for()
    {
        using var directory = new TemporaryDirectory();
        directory.Copy(Path.Combine(Fixtures.Base, "model.onnx"), "model.onnx");

        var error = Assert.Throws<FileNotFoundException>(() => OnnxEmbeddingGenerator.FromDirectory(directory.Path));
        Assert.Contains("vocab.txt", error.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_file_that_does_not_exist_is_reported_with_its_full_path()
    {
        var options = new OnnxEmbeddingGeneratorOptions { ModelDirectory = Fixtures.Base, ModelPath = "model_quantized.onnx" };

        var error = Assert.Throws<FileNotFoundException>(() => new OnnxEmbeddingGenerator(options));
        Assert.Equal(Path.Combine(Fixtures.Base, "model_quantized.onnx"), error.FileName);
    }

    [Fact]
    public void Options_without_a_directory_need_both_file_paths()
    {
        var error = Assert.Throws<ArgumentException>(() => new OnnxEmbeddingGenerator(new OnnxEmbeddingGeneratorOptions { ModelPath = Fixtures.BadModel }));
        Assert.Contains(nameof(OnnxEmbeddingGeneratorOptions.TokenizerPath), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_an_onnx_model_is_reported_as_invalid_data()
    {
        using var directory = new TemporaryDirectory();
        directory.Write("model.onnx", "this is not a protobuf");
        directory.Copy(Fixtures.Vocabulary, "vocab.txt");

        var error = Assert.Throws<InvalidDataException>(() => OnnxEmbeddingGenerator.FromDirectory(directory.Path));
        Assert.Contains("model.onnx", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_that_is_not_a_text_encoder_has_its_inputs_listed()
    {
        var options = new OnnxEmbeddingGeneratorOptions { ModelPath = Fixtures.BadModel, TokenizerPath = Fixtures.Vocabulary };

        var error = Assert.Throws<OnnxModelSignatureException>(() => new OnnxEmbeddingGenerator(options));
        Assert.Contains("'input_ids'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'pixel_values' (float [batch, 3])", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_with_an_input_the_generator_cannot_feed_is_refused()
    {
        var options = new OnnxEmbeddingGeneratorOptions
        {
            ModelDirectory = Fixtures.Base,
            InputIdsInputName = "input_ids",
            AttentionMaskInputName = "token_type_ids",
            TokenTypeIdsInputName = "token_type_ids",
        };

        // attention_mask is now an input nobody feeds.
        var error = Assert.Throws<OnnxModelSignatureException>(() => new OnnxEmbeddingGenerator(options));
        Assert.Contains("'attention_mask'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_output_pooling_on_a_model_without_a_pooled_output_suggests_mean_or_cls()
    {
        var error = Assert.Throws<OnnxModelSignatureException>(() => OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { Pooling = OnnxPooling.ModelOutput }));
        Assert.Contains("[batch, hidden]", error.Message, StringComparison.Ordinal);
        Assert.Contains("'last_hidden_state' (float [batch, sequence, 64])", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(OnnxPooling.Mean), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_name_of_the_wrong_rank_is_refused()
    {
        var error = Assert.Throws<OnnxModelSignatureException>(() =>
            OnnxEmbeddingGenerator.FromDirectory(Fixtures.Pooled, new() { Pooling = OnnxPooling.Mean, OutputName = "sentence_embedding" }));
        Assert.Contains("Mean pooling", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_output_name_the_model_lacks_is_refused_with_the_outputs_listed()
    {
        var error = Assert.Throws<OnnxModelSignatureException>(() => OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { OutputName = "embeddings" }));
        Assert.Contains("'last_hidden_state'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(OnnxEmbeddingGeneratorOptions.BatchSize))]
    [InlineData(nameof(OnnxEmbeddingGeneratorOptions.MaxSequenceLength))]
    [InlineData(nameof(OnnxEmbeddingGeneratorOptions.Dimensions))]
    [InlineData(nameof(OnnxEmbeddingGeneratorOptions.IntraOpNumThreads))]
    public void Out_of_range_options_are_named_in_the_error(string option)
    {
        var options = new OnnxEmbeddingGeneratorOptions { ModelDirectory = Fixtures.Base };
        switch (option)
        {
            case nameof(OnnxEmbeddingGeneratorOptions.BatchSize): options.BatchSize = 0; break;
            case nameof(OnnxEmbeddingGeneratorOptions.MaxSequenceLength): options.MaxSequenceLength = 2; break;
            case nameof(OnnxEmbeddingGeneratorOptions.Dimensions): options.Dimensions = 0; break;
            default: options.IntraOpNumThreads = -1; break;
        }

        var error = Assert.Throws<ArgumentException>(() => new OnnxEmbeddingGenerator(options));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_dimensions_beyond_the_model_are_refused_at_load()
    {
        var error = Assert.Throws<ArgumentException>(() => OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { Dimensions = 65 }));
        Assert.Contains("64", error.Message, StringComparison.Ordinal);
    }

    // EmbeddingGenerationOptions itself refuses fewer than 1.
    [Theory]
    [InlineData(65)]
    [InlineData(3072)]
    public async Task Requested_dimensions_beyond_the_model_are_refused(int dimensions)
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["the cat"], new EmbeddingGenerationOptions { Dimensions = dimensions }));
        Assert.Contains("between 1 and the model's 64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_texts_is_an_error()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync([]));
        Assert.Equal("values", error.ParamName);
    }

    [Theory]
    [InlineData(null, "null")]
    [InlineData("", "empty or blank")]
    [InlineData(" \t\n", "empty or blank")]
    public async Task An_empty_text_is_named_by_its_index(string? text, string problem)
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["the cat", "a dog", text!]));
        Assert.Contains($"values[2] is {problem}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_input_type_is_refused()
    {
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        var options = new EmbeddingGenerationOptions { AdditionalProperties = new() { [EmbeddingGenerationOptionsExtensions.InputTypePropertyName] = "passage" } };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["the cat"], options));
        Assert.Contains("'passage'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_text_longer_than_the_model_positions_fails_with_a_hint_to_lower_the_maximum_length()
    {
        // The fixture model has 512 positions, BERT's; a limit above that lets 600 tokens through to the model.
        using var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { MaxSequenceLength = 1024 });
        var longText = string.Join(" ", Enumerable.Repeat("the cat sat", 200));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => generator.GenerateAsync([longText]));
        Assert.Contains(nameof(OnnxEmbeddingGeneratorOptions.MaxSequenceLength), error.Message, StringComparison.Ordinal);
        Assert.IsType<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(error.InnerException);

        using var limited = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        Assert.Single(await limited.GenerateAsync([longText]));
    }

    [Fact]
    public async Task A_disposed_generator_refuses_work()
    {
        var generator = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        generator.Dispose();
        generator.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => generator.GenerateAsync(["the cat"]));
    }
}
