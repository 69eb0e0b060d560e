using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Bench;
using Mrl.Cli.Bench;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary><c>mrl tune</c>: the cheapest configuration that reaches a target recall, written as a search profile.</summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var options = new BenchOptions();
        var target = new Option<double>("--target-recall") { Description = "The recall@k to reach.", DefaultValueFactory = _ => 0.99 };
        var sample = new Option<int>("--sample") { Description = "Queries to measure each configuration with.", DefaultValueFactory = _ => 200 };
        var strategies = new Option<string>("--strategies") { Description = "The strategies to choose among: full, two-pass, two-pass-db (e.g. two-pass,two-pass-db for a profile that searches the prefix).", DefaultValueFactory = _ => string.Join(',', TuneSettings.Tunable) };
        var output = new Option<string>("--out") { Description = "Where to write the profile (JSON), for `mrl search --profile` and SearchProfile.Load.", DefaultValueFactory = _ => "mrl-profile.json" };

        var command = new Command("tune", "Find the cheapest prefix size, oversampling, ef_search and rerank location that reach a target recall, and save it as a profile.")
        {
            target, sample, strategies, output,
        };
        options.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = options.BackendNames(parse, single: true)[0];
            var goal = parse.GetValue(target);
            if (goal is <= 0 or > 1)
            {
                throw new ArgumentException("--target-recall must be above 0 and at most 1.");
            }

            ArgumentOutOfRangeException.ThrowIfLessThan(parse.GetValue(sample), 1, "--sample");
            var chosen = BenchStrategy.Parse(parse.GetValue(strategies)!);
            if (chosen.FirstOrDefault(s => !TuneSettings.Tunable.Contains(s)) is { } other)
            {
                throw new ArgumentException($"--strategies: tune chooses among {string.Join(", ", TuneSettings.Tunable)}; '{other}' is not one a profile can hold.");
            }

            var data = await BenchCommand.LoadDataAsync(options, parse, parse.GetValue(sample), cancellationToken);
            var notes = new List<string>();
            var settings = new TuneSettings(parse.GetValue(options.K), goal, options.PrefixSizes(parse, data.Dimensions, notes),
                BenchPlan.ParseList(parse.GetValue(options.Oversampling)!, "--oversampling"), BenchPlan.ParseList(parse.GetValue(options.EfSearch)!, "--ef-search"),
                parse.GetValue(options.Warmup), options.TruthCacheDirectory(parse), chosen);

            TuneResult result;
            await using (var backend = options.CreateBackend(name, data, parse))
            {
                result = await ConsoleBenchProgress.RunAsync(progress => Tuner.RunAsync(data, backend, settings, progress, cancellationToken));
            }

            var table = new Table().Title(TerminalText.Markup($"{name}: {data.Description}"))
                .AddColumns("", "strategy", "p", "over", "ef", "recall", "QPS", "p95 ms");
            foreach (var row in result.Tried)
            {
                var r = row.Result;
                table.AddRow(row == result.Winner ? "[green]best[/]" : "", r.Strategy, Text(r.PrefixDims), Text(r.Oversampling), Text(r.EfSearch),
                    r.Recall >= goal ? $"[green]{F(r.Recall, "F4")}[/]" : F(r.Recall, "F4"), F(r.Qps, "F1"), F(r.P95Ms, "F2"));
            }

            AnsiConsole.Write(table);
            foreach (var note in notes.Concat(result.Notes))
            {
                AnsiConsole.WriteLine(note);
            }

            if (result.Winner is not { } winner)
            {
                var closest = result.Tried.MaxBy(r => r.Result.Recall);
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"No configuration reached recall@{settings.K} {goal}; the best was {closest?.Result.Recall:F4} ({closest?.Configuration}). Widen --oversampling, --ef-search or --prefix-dims."));
            }

            var profile = Tuner.ToProfile(winner, result.WinnerQps, data, settings, name);
            var path = parse.GetValue(output)!;
            profile.Save(path);
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Cheapest at recall@{settings.K} >= {goal}: {winner.Configuration} ({RerankText(profile)}), recall {winner.Result.Recall:F4}, {result.WinnerQps:F1} QPS on {data.Queries.Rows} queries."));
            AnsiConsole.WriteLine($"Wrote the profile to {Path.GetFullPath(path)}; use it with `mrl search --profile {path}`.");
            if (parse.GetValue(options.SourceTable) is { } source && parse.GetValue(options.ScopeColumn) is { } scopeColumn)
            {
                // Collections of other sizes share the table, so the prefix column is named after this one's size.
                var scopeValue = parse.GetValue(options.ScopeValue);
                var vectorColumn = parse.GetValue(options.VectorColumn);
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{source} was only read. To search this collection with this profile, give it a {profile.PrefixDimensions}-d prefix (`mrl migrate postgres --table {source} --key-column {parse.GetValue(options.KeyColumn)} --vector-column {vectorColumn} --dims {profile.FullDimensions} --prefix {profile.PrefixDimensions} --prefix-column {vectorColumn}_p{profile.FullDimensions} --scope-column {scopeColumn} --scope-value {scopeValue}`), then open a store with the same ScopeColumn, ScopeValue and PrefixColumn and search with profile.ToSearchOptions()."));
            }
            else if (parse.GetValue(options.SourceTable) is { } sourceTable)
            {
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{sourceTable} was only read. To search it with this profile, give it a {profile.PrefixDimensions}-d prefix (`mrl migrate postgres --table {sourceTable} --prefix {profile.PrefixDimensions}`), then `mrl search --postgres ... --table {sourceTable} --profile {path}`."));
            }
            return 0;
        });
        return command;
    }

    private static string RerankText(SearchProfile profile) => profile.Strategy switch
    {
        SearchStrategy.FullDimension => "one pass over the full vectors",
        SearchStrategy.TwoPassInDatabase => "rerank in the database",
        SearchStrategy.PrefixOnly => "the prefix alone",
        _ => "rerank in process",
    };

    private static string Text(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
