using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.AI;
using Mrl.Adapters.Onnx;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl embed</c>: encode texts with a local ONNX model and show the vectors.</summary>
internal static class EmbedCommand
{
    public static Command Create()
    {
        var encoder = new EncoderOptions();
        var texts = new Argument<string[]>("texts") { Description = "Texts to embed.", Arity = ArgumentArity.OneOrMore };
        var dims = new Option<int?>("--dims") { Description = "Matryoshka dimensions to truncate to (default: the model's)." };
        var query = new Option<bool>("--query") { Description = "Embed as queries (query prefix) rather than documents." };
        var command = new Command("embed", "Embed texts with a local ONNX model; prints the dimensions and the first values.") { texts, dims, query };
        encoder.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var generator = encoder.Create(parse);
            var options = new EmbeddingGenerationOptions { Dimensions = parse.GetValue(dims) }
                .WithInputType(parse.GetValue(query) ? EmbeddingInputType.Query : EmbeddingInputType.Document);
            var values = parse.GetValue(texts)!;
            var embeddings = await generator.GenerateAsync(values, options, cancellationToken);

            var table = new Table().AddColumns("text", "dims", "first values");
            for (var i = 0; i < values.Length; i++)
            {
                var vector = embeddings[i].Vector.Span;
                var head = string.Join(", ", vector[..Math.Min(6, vector.Length)].ToArray().Select(v => v.ToString("F4", CultureInfo.InvariantCulture)));
                table.AddRow(TerminalText.Markup(values[i]), vector.Length.ToString(CultureInfo.InvariantCulture), head + (vector.Length > 6 ? ", ..." : ""));
            }

            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
