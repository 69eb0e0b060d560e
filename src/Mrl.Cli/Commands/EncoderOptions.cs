using System.CommandLine;
using Mrl.Adapters.Onnx;

namespace Mrl.Cli.Commands;

/// <summary>The options every command that runs the ONNX encoder shares.</summary>
internal sealed class EncoderOptions
{
    public Option<string> Model { get; } = new("--model", "-m") { Description = "Folder with model.onnx and its tokenizer (vocab.txt, tokenizer.json or tokenizer.model), or the .onnx file in such a folder.", Required = true };

    public Option<OnnxPooling?> Pooling { get; } = new("--pooling") { Description = "Mean, Cls, LastToken or ModelOutput (default: as the model folder or its profile says, else Mean)." };

    public Option<bool> LayerNorm { get; } = new("--layer-norm") { Description = "Layer-norm before truncation (nomic-embed-text-v1.5's recipe; without it: as the profile says)." };

    public Option<string?> Profile { get; } = new("--model-profile") { Description = "A known model whose settings to use, e.g. Qwen/Qwen3-Embedding-0.6B (default: detected from the folder)." };

    public Option<string?> QueryPrefix { get; } = new("--query-prefix") { Description = "Text put before queries, e.g. 'search_query: ' (default: the model's query prompt; '' for none)." };

    public Option<string?> DocumentPrefix { get; } = new("--document-prefix") { Description = "Text put before documents, e.g. 'search_document: ' (default: the model's document prompt; '' for none)." };

    public Option<string?> QueryTask { get; } = new("--query-task") { Description = "For a model with a task_id input (jina-embeddings-v3): the LoRA adapter for queries (default: retrieval.query)." };

    public Option<string?> DocumentTask { get; } = new("--document-task") { Description = "For a model with a task_id input: the LoRA adapter for documents (default: retrieval.passage)." };

    public Option<int?> MaxLength { get; } = new("--max-length") { Description = "Maximum tokens per text (default: the model's, at most 8192)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Pooling);
        command.Options.Add(LayerNorm);
        command.Options.Add(Profile);
        command.Options.Add(QueryPrefix);
        command.Options.Add(DocumentPrefix);
        command.Options.Add(QueryTask);
        command.Options.Add(DocumentTask);
        command.Options.Add(MaxLength);
    }

    /// <summary>The encoder of the --model folder, or of the folder of a --model that names the .onnx file itself.</summary>
    public OnnxEmbeddingGenerator Create(ParseResult parse)
    {
        var model = parse.GetValue(Model)!;
        string? file = null;
        if (File.Exists(model))
        {
            if (!model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"--model: {model} is a file but not an .onnx model; give the model's folder (model.onnx and its tokenizer) or its .onnx file.");
            }

            file = Path.GetFileName(model);
            model = Path.GetDirectoryName(Path.GetFullPath(model))!;
        }
        else if (!Directory.Exists(model))
        {
            throw new ArgumentException($"--model: there is no folder or file {model}; give the model's folder (model.onnx and its tokenizer) or its .onnx file.");
        }

        return OnnxEmbeddingGenerator.FromDirectory(model, Options(parse, file));
    }

    private OnnxEmbeddingGeneratorOptions Options(ParseResult parse, string? modelFile) => new()
    {
        ModelPath = modelFile,
        Pooling = parse.GetValue(Pooling),
        LayerNormBeforeTruncation = parse.GetValue(LayerNorm) ? true : null,
        QueryPrefix = parse.GetValue(QueryPrefix),
        DocumentPrefix = parse.GetValue(DocumentPrefix),
        QueryTask = parse.GetValue(QueryTask),
        DocumentTask = parse.GetValue(DocumentTask),
        MaxSequenceLength = parse.GetValue(MaxLength),
        Profile = parse.GetValue(Profile),
    };
}
