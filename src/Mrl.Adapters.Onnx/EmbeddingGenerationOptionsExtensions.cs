using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx;

/// <summary>Marks an embedding request as a query or a document, for generators that put a task prefix in front of the text.</summary>
public static class EmbeddingGenerationOptionsExtensions
{
    /// <summary>
    /// The key in <see cref="EmbeddingGenerationOptions.AdditionalProperties"/> that carries the input type. Its value is
    /// an <see cref="EmbeddingInputType"/> or one of the strings <c>"query"</c>, <c>"document"</c>,
    /// <c>"search_query"</c>, <c>"search_document"</c> (any case).
    /// </summary>
    public const string InputTypePropertyName = "input_type";

    /// <summary>Sets the input type of the request and returns the same options, for chaining.</summary>
    /// <example><code>
    /// var query = await generator.GenerateVectorAsync("what is mrl?",
    ///     new EmbeddingGenerationOptions { Dimensions = 256 }.WithInputType(EmbeddingInputType.Query));
    /// </code></example>
    public static EmbeddingGenerationOptions WithInputType(this EmbeddingGenerationOptions options, EmbeddingInputType inputType)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(inputType))
        {
            throw new ArgumentOutOfRangeException(nameof(inputType), inputType, "Unknown input type.");
        }

        options.AdditionalProperties ??= [];
        options.AdditionalProperties[InputTypePropertyName] = inputType == EmbeddingInputType.Query ? "query" : "document";
        return options;
    }

    /// <summary>Reads the input type of a request, or null when it names none.</summary>
    /// <exception cref="ArgumentException">The property holds something other than a known input type.</exception>
    internal static EmbeddingInputType? GetInputType(this EmbeddingGenerationOptions? options)
    {
        if (options?.AdditionalProperties is not { } properties
            || !properties.TryGetValue(InputTypePropertyName, out var value)
            || value is null)
        {
            return null;
        }

        return value switch
        {
            EmbeddingInputType type when Enum.IsDefined(type) => type,
            string text when text.Equals("query", StringComparison.OrdinalIgnoreCase)
                || text.Equals("search_query", StringComparison.OrdinalIgnoreCase) => EmbeddingInputType.Query,
            string text when text.Equals("document", StringComparison.OrdinalIgnoreCase)
                || text.Equals("search_document", StringComparison.OrdinalIgnoreCase) => EmbeddingInputType.Document,
            _ => throw new ArgumentException(
                $"AdditionalProperties[\"{InputTypePropertyName}\"] is '{value}'; expected an {nameof(EmbeddingInputType)} or one of \"query\", \"document\", \"search_query\", \"search_document\".",
                nameof(options)),
        };
    }
}
