using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Mrl.Adapters;
using Mrl.Adapters.InMemory;
using Mrl.Adapters.Onnx;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl index</c>: text to embeddings to a store, in one process.</summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var encoder = new EncoderOptions();
        var store = new StoreOptions();
        var input = new Option<string>("--input", "-i") { Description = "JSON Lines: one object per line with \"id\" and \"text\"; other fields become the payload.", Required = true };
        var dims = new Option<int?>("--dims") { Description = "Full dimensions to keep (default: the model's)." };
        var prefix = new Option<int>("--prefix", "-p") { Description = "Prefix dimensions indexed for pass 1.", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Texts embedded and written per batch.", DefaultValueFactory = _ => 256 };
        var command = new Command("index", "Embed a JSON Lines file with a local ONNX model and write it to a store (in-memory snapshot by default, or --postgres).")
        {
            input, dims, prefix, batch,
        };
        encoder.AddTo(command);
        store.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var generator = encoder.Create(parse);
            var layout = new EmbeddingLayout(parse.GetValue(dims) ?? generator.ModelDimensions, parse.GetValue(prefix));
            var documents = ReadDocuments(parse.GetValue(input)!);
            var embedding = new EmbeddingGenerationOptions { Dimensions = layout.FullDimensions }.WithInputType(EmbeddingInputType.Document);

            var model = IndexedModel.Of(generator);
            var postgres = store.OpenPostgres(parse, layout);
            InMemoryAdaptiveStore<string>? memory = null;
            if (postgres is null)
            {
                (memory, var existing) = await store.LoadFileAsync(parse, layout, cancellationToken);
                ModelCheck.Warn(existing?.Compare(model) ?? []);
            }

            IAdaptiveStore<string> target = (IAdaptiveStore<string>?)postgres ?? memory!;
            try
            {
                await target.EnsureSchemaAsync(cancellationToken);
                await AnsiConsole.Progress().StartAsync(async context =>
                {
                    var task = context.AddTask("Embedding and writing", maxValue: documents.Count);
                    foreach (var chunk in documents.Chunk(parse.GetValue(batch)))
                    {
                        var vectors = await generator.GenerateAsync(chunk.Select(d => d.Text), embedding, cancellationToken);
                        var records = chunk.Select((d, i) => new VectorRecord<string>(d.Id, vectors[i].Vector, d.Payload)).ToArray();
                        await target.UpsertAsync(records, cancellationToken);
                        task.Increment(chunk.Length);
                    }
                });

                if (memory is not null)
                {
                    await store.SaveFileAsync(parse, memory, model, cancellationToken);
                }
                else if (!await store.RecordPostgresModelAsync(parse, model, cancellationToken))
                {
                    await Console.Error.WriteLineAsync(
                        $"note: the model was not recorded, because the prefix column of {TerminalText.Plain(parse.GetValue(store.Table)!)} is missing, has a comment of its own, or belongs to another role; `mrl search` cannot check that it uses the same model.");
                }

                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"Indexed {documents.Count} documents ({layout}) into {(postgres is null ? parse.GetValue(store.File) : parse.GetValue(store.Table))}."));
            }
            finally
            {
                memory?.Dispose();
                if (postgres is not null)
                {
                    await postgres.DisposeAsync();
                }
            }

            return 0;
        });
        return command;
    }

    internal sealed record Document(string Id, string Text, JsonElement Payload);

    internal static List<Document> ReadDocuments(string path)
    {
        var documents = new List<Document>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            JsonElement element;
            try
            {
                using var json = JsonDocument.Parse(text);
                element = json.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}, line {line}, column {e.BytePositionInLine.GetValueOrDefault() + 1}: not JSON ({CliErrors.WithoutPosition(e)})."), e);
            }

            if (element.ValueKind != JsonValueKind.Object
                || !element.TryGetProperty("id", out var id) || id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number)
                || !element.TryGetProperty("text", out var body) || body.ValueKind != JsonValueKind.String)
            {
                throw new ArgumentException($"{path}, line {line}: expected an object with \"id\" (string or number) and \"text\" (string).");
            }

            documents.Add(new Document(id.ValueKind == JsonValueKind.String ? id.GetString()! : id.GetRawText(), body.GetString()!, element));
        }

        return documents.Count > 0 ? documents : throw new ArgumentException($"{path} has no documents.");
    }
}
