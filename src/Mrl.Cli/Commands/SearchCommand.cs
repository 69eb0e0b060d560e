using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.AI;
using Mrl.Adapters;
using Mrl.Adapters.Onnx;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl search</c>: query text to embedding to two-pass search, in one process.</summary>
internal static class SearchCommand
{
    public static Command Create()
    {
        var encoder = new EncoderOptions();
        var store = new StoreOptions();
        var profile = new ProfileOption();
        var query = new Argument<string>("query") { Description = "The query text." };
        var k = new Option<int>("--k") { Description = "Hits to return.", DefaultValueFactory = _ => 10 };
        var oversampling = new Option<int>("--oversampling") { Description = "Candidates = k x oversampling.", DefaultValueFactory = _ => 8 };
        var rerank = ProfileOption.CreateStrategyOption();
        var dims = new Option<int?>("--dims") { Description = "Full dimensions (postgres only; default: what the table records)." };
        var prefix = new Option<int?>("--prefix", "-p") { Description = "Prefix dimensions (postgres only; default: what the table records; the snapshot knows its own)." };
        var trace = TraceRecorder.CreateOption();
        var command = new Command("search", "Embed a query with a local ONNX model and run a two-pass search over an index made by `mrl index`.")
        {
            query, k, oversampling, rerank, dims, prefix, trace,
        };
        encoder.AddTo(command);
        store.AddTo(command);
        command.Options.Add(profile.Profile);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var generator = encoder.Create(parse);
            var tuned = profile.Load(parse);
            IAdaptiveStore<string> source;
            IndexedModel? indexed;
            if (parse.GetValue(store.Postgres) is not null)
            {
                var metric = tuned?.Metric ?? DistanceMetric.Cosine;
                var fullDimensions = parse.GetValue(dims) ?? tuned?.FullDimensions;
                var prefixDimensions = parse.GetValue(prefix) ?? tuned?.PrefixDimensions;
                var layout = fullDimensions is { } givenFull && prefixDimensions is { } givenPrefix
                    ? new EmbeddingLayout(givenFull, givenPrefix, metric)
                    : await store.ReadPostgresLayoutAsync(parse, metric, cancellationToken);
                indexed = await store.ReadPostgresModelAsync(parse, cancellationToken);
                source = store.OpenPostgres(parse, new EmbeddingLayout(fullDimensions ?? layout.FullDimensions, prefixDimensions ?? layout.PrefixDimensions, metric))!;
            }
            else
            {
                (var memory, indexed) = await store.LoadFileAsync(parse, layout: null, cancellationToken);
                source = memory;
            }

            ModelCheck.Warn(indexed, generator);

            try
            {
                var options = new EmbeddingGenerationOptions { Dimensions = source.Layout.FullDimensions }.WithInputType(EmbeddingInputType.Query);
                var vector = await generator.GenerateVectorAsync(parse.GetValue(query)!, options, cancellationToken);
                using var recorder = TraceRecorder.StartIf(parse.GetValue(trace));
                var result = await source.SearchAsync(vector, ProfileOption.Resolve(parse, tuned, source.Layout, k, oversampling, rerank), cancellationToken);

                var table = new Table().AddColumns("#", "id", "score", "text");
                var rank = 0;
                foreach (var hit in result.Hits)
                {
                    var text = hit.Payload is { } p && p.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "";
                    table.AddRow((++rank).ToString(CultureInfo.InvariantCulture), TerminalText.Markup(hit.Key), hit.Score.ToString("F4", CultureInfo.InvariantCulture), TerminalText.Markup(text));
                }

                AnsiConsole.Write(table);
                var d = result.Diagnostics;
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{d.StrategyName}: {d.CandidatesFetched} candidates, pass 1 {d.Pass1Time.TotalMilliseconds:F2} ms, pass 2 {d.Pass2Time.TotalMilliseconds:F2} ms, {d.BytesFetched} bytes of full vectors fetched ({source.Layout})."));
                recorder?.Print();
            }
            finally
            {
                if (source is IAsyncDisposable asyncDisposable)
                {
                    await asyncDisposable.DisposeAsync();
                }
                else if (source is IDisposable disposable)
                {
                    disposable.Dispose();
                }
            }

            return 0;
        });
        return command;
    }
}
