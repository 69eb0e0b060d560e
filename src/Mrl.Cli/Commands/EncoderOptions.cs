using System.CommandLine;
using Mrl.Adapters.Onnx;

namespace Mrl.Cli.Commands;

/// <summary>The options every command that runs the ONNX encoder shares.</summary>
internal sealed class EncoderOptions
{
    public Option<string> Model { get; } = new("--model", "-m") { Description = "Folder with model.onnx and vocab.txt (or tokenizer.json).", Required = true };

    public Option<OnnxPooling> Pooling { get; } = new("--pooling") { Description = "Mean, Cls or ModelOutput.", DefaultValueFactory = _ => OnnxPooling.Mean };

    public Option<bool> LayerNorm { get; } = new("--layer-norm") { Description = "Layer-norm before truncation (nomic-embed-text-v1.5's recipe)." };

    public Option<string?> QueryPrefix { get; } = new("--query-prefix") { Description = "Text put before queries, e.g. 'search_query: '." };

    public Option<string?> DocumentPrefix { get; } = new("--document-prefix") { Description = "Text put before documents, e.g. 'search_document: '." };

    public Option<int> MaxLength { get; } = new("--max-length") { Description = "Maximum tokens per text.", DefaultValueFactory = _ => OnnxEmbeddingGeneratorOptions.DefaultMaxSequenceLength };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Pooling);
        command.Options.Add(LayerNorm);
        command.Options.Add(QueryPrefix);
        command.Options.Add(DocumentPrefix);
        command.Options.Add(MaxLength);
    }

    public OnnxEmbeddingGenerator Create(ParseResult parse) => OnnxEmbeddingGenerator.FromDirectory(parse.GetValue(Model)!, new OnnxEmbeddingGeneratorOptions
    {
        Pooling = parse.GetValue(Pooling),
        LayerNormBeforeTruncation = parse.GetValue(LayerNorm),
        QueryPrefix = parse.GetValue(QueryPrefix),
        DocumentPrefix = parse.GetValue(DocumentPrefix),
        MaxSequenceLength = parse.GetValue(MaxLength),
    });
}
