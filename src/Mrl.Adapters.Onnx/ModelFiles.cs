namespace Mrl.Adapters.Onnx;

/// <summary>Finds the model and tokenizer files the options point at.</summary>
internal static class ModelFiles
{
    // Hugging Face repositories keep the ONNX export under onnx/ and the tokenizer at the top.
    private static readonly string[] ModelCandidates = ["model.onnx", Path.Combine("onnx", "model.onnx")];
    // vocab.txt first keeps BERT-family folders on the file they have always used; sentencepiece.bpe.model comes
    // last because only its tokenizer.json gives XLM-R's ids (the loader says so if it is all there is).
    private static readonly string[] TokenizerCandidates = ["vocab.txt", "tokenizer.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model"];

    /// <exception cref="DirectoryNotFoundException">The model directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A named file does not exist, or the directory holds none of the expected files.</exception>
    public static (string ModelPath, string TokenizerPath, string ModelId) Resolve(OnnxEmbeddingGeneratorOptions options)
    {
        var directory = string.IsNullOrWhiteSpace(options.ModelDirectory) ? null : Path.GetFullPath(options.ModelDirectory);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"The model directory '{directory}' does not exist.");
        }

        var model = Locate(directory, options.ModelPath, ModelCandidates, "ONNX model", nameof(options.ModelPath));
        var tokenizer = Locate(directory, options.TokenizerPath, TokenizerCandidates, "tokenizer (vocab.txt, tokenizer.json or a SentencePiece .model)", nameof(options.TokenizerPath));
        var modelId = options.ModelId
            ?? Path.GetFileName(directory is null ? Path.GetDirectoryName(model) : Path.TrimEndingDirectorySeparator(directory))
            ?? Path.GetFileNameWithoutExtension(model);
        return (model, tokenizer, modelId);
    }

    private static string Locate(string? directory, string? named, string[] candidates, string what, string option)
    {
        if (!string.IsNullOrWhiteSpace(named))
        {
            var path = Path.GetFullPath(directory is null ? named : Path.Combine(directory, named));
            return File.Exists(path) ? path : throw new FileNotFoundException($"The {what} '{path}' does not exist.", path);
        }

        // Validate() guarantees a directory whenever a path is left out.
        foreach (var candidate in candidates)
        {
            var path = Path.Combine(directory!, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException(
            $"The model directory '{directory}' has no {what}: looked for {string.Join(" and ", candidates)}. " +
            $"Name the file with {nameof(OnnxEmbeddingGeneratorOptions)}.{option}.");
    }
}
