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
        var command = new Command("embed", "Embed texts with a local ONNX model; prints what it detected in the model folder, the dimensions and the first values.") { texts, dims, query };
        encoder.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var generator = encoder.Create(parse);
            AnsiConsole.Write(Describe(generator.Description));
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
            if (embeddings.Usage?.AdditionalCounts?.TryGetValue("truncated_texts", out var truncated) == true && truncated > 0)
            {
                AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                    $"[yellow]{truncated} of {values.Length} texts were truncated to {generator.Description.MaxSequenceLength} tokens.[/]"));
            }

            return 0;
        });
        return command;
    }

    private static Table Describe(OnnxModelDescription description)
    {
        static string Prompt(string? prompt) => prompt is null ? "(none)" : $"\"{prompt.Replace("\n", "\\n", StringComparison.Ordinal)}\"";

        var table = new Table().AddColumns("detected", "value", "from");
        table.AddRow("tokenizer", $"{description.Tokenizer}", Markup.Escape(Path.GetFileName(description.TokenizerPath)));
        table.AddRow("profile", Markup.Escape(description.Profile?.Name ?? "(none matched)"), "folder name or config.json");
        table.AddRow("pooling", $"{description.Pooling}", Markup.Escape(description.PoolingSource));
        table.AddRow("query prompt", Markup.Escape(Prompt(description.QueryPrompt)), Markup.Escape(description.PromptSource));
        table.AddRow("document prompt", Markup.Escape(Prompt(description.DocumentPrompt)), Markup.Escape(description.PromptSource));
        if (description.QueryTask is not null)
        {
            var adapters = description.TaskAdapters.ToList();
            string Task(string task) => Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{task} (task_id {adapters.IndexOf(task)})"));
            table.AddRow("query task", Task(description.QueryTask), Markup.Escape($"task adapters from {description.TaskAdaptersSource}"));
            table.AddRow("document task", Task(description.DocumentTask!), Markup.Escape(string.Join(", ", adapters)));
        }

        table.AddRow("max tokens", description.MaxSequenceLength.ToString(CultureInfo.InvariantCulture), Markup.Escape(description.MaxSequenceLengthSource));
        table.AddRow("padding", $"{description.PaddingSide}", description.TakesPositionIds ? "model takes position_ids" : "");
        table.AddRow("dimensions", description.ModelDimensions.ToString(CultureInfo.InvariantCulture),
            description.MatryoshkaDimensions.Count > 0 ? "Matryoshka: " + string.Join(", ", description.MatryoshkaDimensions) : "");
        table.AddRow("layer norm", description.LayerNormBeforeTruncation ? "before truncation" : "no", "");
        return table;
    }
}
