namespace Mrl.Adapters.Onnx;

/// <summary>
/// What a text is for, which decides the task prefix put in front of it
/// (<see cref="OnnxEmbeddingGeneratorOptions.QueryPrefix"/> or <see cref="OnnxEmbeddingGeneratorOptions.DocumentPrefix"/>).
/// </summary>
/// <remarks>
/// Models trained with task prefixes, such as nomic-embed-text (<c>search_query: </c> / <c>search_document: </c>) or
/// e5 (<c>query: </c> / <c>passage: </c>), need the same prefix at query and at index time as in training.
/// Choose it per request with <see cref="EmbeddingGenerationOptionsExtensions.WithInputType"/>.
/// </remarks>
public enum EmbeddingInputType
{
    /// <summary>A text to be stored and searched: gets <see cref="OnnxEmbeddingGeneratorOptions.DocumentPrefix"/>.</summary>
    Document,

    /// <summary>A search query: gets <see cref="OnnxEmbeddingGeneratorOptions.QueryPrefix"/>.</summary>
    Query,
}
