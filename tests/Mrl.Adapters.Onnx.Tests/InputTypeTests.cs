using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class InputTypeTests
{
    private static OnnxEmbeddingGenerator Create(EmbeddingInputType defaultInputType = EmbeddingInputType.Document) =>
        OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new()
        {
            QueryPrefix = "search_query: ",
            DocumentPrefix = "search_document: ",
            DefaultInputType = defaultInputType,
        });

    [Fact]
    public async Task A_query_gets_the_query_prefix()
    {
        using var generator = Create();
        using var plain = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);

        var query = await generator.GenerateVectorAsync("the cat sat", new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Query));
        var byHand = await plain.GenerateVectorAsync("search_query: the cat sat");
        var unprefixed = await plain.GenerateVectorAsync("the cat sat");

        Assert.Equal(byHand.ToArray(), query.ToArray());
        Assert.NotEqual(unprefixed.ToArray(), query.ToArray());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("document")]
    [InlineData("search_document")]
    [InlineData("DOCUMENT")]
    public async Task Documents_get_the_document_prefix_by_default_and_by_name(string? inputType)
    {
        using var generator = Create();
        using var plain = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        var options = inputType is null ? null : new EmbeddingGenerationOptions
        {
            AdditionalProperties = new() { [EmbeddingGenerationOptionsExtensions.InputTypePropertyName] = inputType },
        };

        var document = await generator.GenerateVectorAsync("the cat sat", options);
        var byHand = await plain.GenerateVectorAsync("search_document: the cat sat");

        Assert.Equal(byHand.ToArray(), document.ToArray());
    }

    [Theory]
    [InlineData("query")]
    [InlineData("search_query")]
    [InlineData(EmbeddingInputType.Query)]
    public async Task The_input_type_can_be_a_string_or_the_enum(object inputType)
    {
        using var generator = Create();
        var options = new EmbeddingGenerationOptions { AdditionalProperties = new() { [EmbeddingGenerationOptionsExtensions.InputTypePropertyName] = inputType } };

        var named = await generator.GenerateVectorAsync("the cat sat", options);
        var typed = await generator.GenerateVectorAsync("the cat sat", new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Query));

        Assert.Equal(typed.ToArray(), named.ToArray());
    }

    [Fact]
    public async Task The_default_input_type_can_be_query()
    {
        using var queries = Create(EmbeddingInputType.Query);
        using var documents = Create();

        var byDefault = await queries.GenerateVectorAsync("the cat sat");
        var asked = await documents.GenerateVectorAsync("the cat sat", new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Query));

        Assert.Equal(asked.ToArray(), byDefault.ToArray());
    }

    [Fact]
    public void With_input_type_writes_the_string_other_generators_understand()
    {
        var options = new EmbeddingGenerationOptions().WithInputType(EmbeddingInputType.Query);

        Assert.Equal("query", options.AdditionalProperties![EmbeddingGenerationOptionsExtensions.InputTypePropertyName]);
    }
}
