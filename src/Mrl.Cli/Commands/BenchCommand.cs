using System.CommandLine;
using System.Globalization;
using Mrl.Bench;
using Mrl.Cli.Bench;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl bench</c>: full, prefix and two-pass search measured side by side on the same data, with sweeps and plots.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var options = new BenchOptions();
        var strategies = new Option<string>("--strategies") { Description = "full, bq-rerank, prefix, two-pass, two-pass-db, two-pass-cached (cold and warm), or all.", DefaultValueFactory = _ => "all" };
        var clients = new Option<int>("--clients") { Description = "Also measure every configuration with this many concurrent clients (1: one client only).", DefaultValueFactory = _ => 4 };
        var output = new Option<string?>("--out") { Description = "Folder for results.json, results.md, recall-vs-qps.png and run.json." };
        var target = new Option<double>("--target-recall") { Description = "The recall the summary compares strategies at.", DefaultValueFactory = _ => 0.99 };
        var rounds = new Option<int>("--rounds") { Description = "Measure every configuration this many times, round-robin across all of them; report medians and spreads.", DefaultValueFactory = _ => 3 };
        var bandwidth = new Option<int>("--bandwidth-mib") { Description = "Size of the memory-bandwidth probe run with the memory backend (0: skip).", DefaultValueFactory = _ => 1024 };

        var trace = TraceRecorder.CreateOption();
        var command = new Command("bench", "Measure recall, QPS, latency, index size and build time of full, prefix and two-pass search, side by side.")
        {
            strategies, clients, rounds, output, target, bandwidth, trace,
        };
        options.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var recorder = TraceRecorder.StartIf(parse.GetValue(trace));
            var names = options.BackendNames(parse, single: false);
            var chosen = BenchStrategy.Parse(parse.GetValue(strategies)!);
            var k = parse.GetValue(options.K);
            ArgumentOutOfRangeException.ThrowIfLessThan(k, 1, "--k");
            ArgumentOutOfRangeException.ThrowIfLessThan(parse.GetValue(clients), 1, "--clients");
            ArgumentOutOfRangeException.ThrowIfLessThan(parse.GetValue(rounds), 1, "--rounds");
            ArgumentOutOfRangeException.ThrowIfNegative(parse.GetValue(bandwidth), "--bandwidth-mib");
            var oversampling = BenchPlan.ParseList(parse.GetValue(options.Oversampling)!, "--oversampling");
            var efSearch = BenchPlan.ParseList(parse.GetValue(options.EfSearch)!, "--ef-search");

            var data = await LoadDataAsync(options, parse, maxQueries: null, cancellationToken);
            var notes = new List<string>();
            var prefixDims = options.PrefixSizes(parse, data.Dimensions, notes);
            var settings = new BenchSettings(k, chosen, prefixDims, oversampling, efSearch, parse.GetValue(clients), parse.GetValue(options.Warmup),
                options.TruthCacheDirectory(parse), parse.GetValue(bandwidth) * 1048576L, parse.GetValue(target), BenchOptions.CommandLine(parse),
                parse.GetValue(rounds));

            var backends = new List<IBenchBackend>();
            BenchRun run;
            try
            {
                backends.AddRange(names.Select(name => options.CreateBackend(name, data, parse)));
                run = await ConsoleBenchProgress.RunAsync(progress => BenchRunner.RunAsync(data, backends, settings, progress, cancellationToken));
            }
            finally
            {
                foreach (var backend in backends)
                {
                    await backend.DisposeAsync();
                }
            }

            if (parse.GetValue(output) is not null && !RecallQpsPlot.HasFonts)
            {
                notes.Add("No font was found (e.g. Debian's fonts-dejavu-core): the plot has no text.");
            }

            run = run with { Notes = [.. notes, .. run.Notes] };
            BenchReport.Print(run, written: parse.GetValue(output) is not null);
            recorder?.Print();
            if (parse.GetValue(output) is { } folder)
            {
                BenchReport.Write(run, folder);
                AnsiConsole.WriteLine($"Wrote {BenchReport.ResultsJson}, {BenchReport.ResultsMarkdown}, {BenchReport.Plot} and {BenchReport.RunJson} to {Path.GetFullPath(folder)}");
            }
            else
            {
                AnsiConsole.WriteLine($"Nothing was written: add --out DIR to save {BenchReport.ResultsJson}, {BenchReport.ResultsMarkdown} (every row), {BenchReport.Plot} and {BenchReport.RunJson}.");
            }

            return 0;
        });
        return command;
    }

    /// <summary>Generates or reads the data with a progress bar.</summary>
    public static async Task<BenchDataset> LoadDataAsync(BenchOptions options, ParseResult parse, int? maxQueries, CancellationToken cancellationToken)
    {
        var data = await ConsoleBenchProgress.RunAsync(async progress =>
        {
            var what = parse.GetValue(options.SourceTable) is { } table
                ? "Reading " + table + (parse.GetValue(options.ScopeValue) is { } collection ? $" ({parse.GetValue(options.ScopeColumn)} = {collection})" : "")
                : parse.GetValue(options.Base) is null ? "Generating synthetic data" : "Reading vector files";
            var task = progress.AddTask(what, maxValue: 1);
            var loaded = await options.LoadDataAsync(parse, maxQueries,
                rows => task.Description = string.Create(CultureInfo.InvariantCulture, $"{what}: {rows:N0} rows"), cancellationToken);
            task.Description = loaded.Description;
            task.Increment(1);
            task.StopTask();
            return loaded;
        });
        AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"data: {TerminalText.Plain(data.Description)}"));
        return data;
    }
}
