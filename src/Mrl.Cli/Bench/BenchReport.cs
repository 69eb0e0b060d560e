using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mrl.Bench;
using Spectre.Console;

namespace Mrl.Cli.Bench;

/// <summary>Writes a run to a folder (results.json, results.md, recall-vs-qps.png, run.json) and prints it.</summary>
internal static class BenchReport
{
    public const string ResultsJson = "results.json";
    public const string ResultsMarkdown = "results.md";
    public const string Plot = "recall-vs-qps.png";
    public const string RunJson = "run.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static void Write(BenchRun run, string directory)
    {
        Directory.CreateDirectory(directory);
        var results = run.Rows.Select(r => r.Result).ToArray();
        File.WriteAllText(Path.Combine(directory, ResultsJson), JsonSerializer.Serialize(results, Json));
        RecallQpsPlot.Save(results, Path.Combine(directory, Plot), PlotTitle(run), run.Settings.TargetRecall);
        File.WriteAllText(Path.Combine(directory, ResultsMarkdown), Markdown(run));
        File.WriteAllText(Path.Combine(directory, RunJson), JsonSerializer.Serialize(new
        {
            started = run.Started,
            elapsedSeconds = Math.Round(run.Elapsed.TotalSeconds, 1),
            command = run.Settings.CommandLine,
            machine = Machine(),
            data = new { run.Data.Description, n = run.Data.Count, dims = run.Data.Dimensions, queries = run.Data.Queries.Rows, metric = run.Data.Metric.ToString(), identity = run.Data.Identity, truth = run.TruthSource },
            k = run.Settings.K,
            targetRecall = run.Settings.TargetRecall,
            backends = run.BackendSettings,
            memoryBandwidthBytesPerSecond = run.MemoryBandwidth,
            scanRates = run.ScanRates,
            builds = run.Builds,
            summary = run.Summary,
            notes = run.Notes,
            details = run.Rows.Select(r => new { r.Result.Backend, configuration = r.Configuration.ToString(), r.Result.Clients, r.Measurement.Pass1Ms, r.Measurement.CandidatesPerQuery }),
        }, Json));
    }

    public static void Print(BenchRun run, bool written) => Print(run, written, AnsiConsole.Profile.Width);

    /// <summary>
    /// Prints the run: every column when the screen is wide enough, else (a narrow terminal, or a log, which Spectre
    /// renders 80 wide) the one-client rows in the columns that decide, and where the rest is.
    /// </summary>
    public static void Print(BenchRun run, bool written, int width)
    {
        string[] headers = ["backend", "strategy", "p", "over", "ef", "clients", "recall", "QPS", "QPS range", "p50 ms", "p95 ms", "p99 ms", "KiB/query", "DB CPU ms/q"];
        var rows = run.Rows.Select(r => r.Result).Select(r => new[]
        {
            r.Backend, r.Strategy, Text(r.PrefixDims), Text(r.Oversampling), Text(r.EfSearch), Text(r.Clients), F(r.Recall, "F4"), F(r.Qps, "F1"),
            QpsRange(r), F(r.P50Ms, "F2"), F(r.P95Ms, "F2"), F(r.P99Ms, "F2"), F(r.BytesPerQuery / 1024, "F1"), Cpu(r),
        }).ToList();
        var table = new Table().Title(Markup.Escape(run.Data.Description));
        string? footer = null;
        if (TableWidth(headers, rows) <= width)
        {
            table.AddColumns(headers);
            foreach (var row in rows)
            {
                table.AddRow(row.Select(Markup.Escape).ToArray());
            }
        }
        else
        {
            var oneBackend = run.Rows.Select(r => r.Result.Backend).Distinct().Count() == 1;
            var fewest = run.Rows.Count == 0 ? 1 : run.Rows.Min(r => r.Result.Clients);
            table.Border(TableBorder.Simple).AddColumns((oneBackend ? headers[1..5] : headers[..5]).Concat(["recall", "QPS", "p95 ms"]).ToArray());
            foreach (var r in run.Rows.Select(r => r.Result).Where(r => r.Clients == fewest))
            {
                string[] cells = [r.Backend, r.Strategy, Text(r.PrefixDims), Text(r.Oversampling), Text(r.EfSearch), F(r.Recall, "F4"), F(r.Qps, "F1"), F(r.P95Ms, "F2")];
                table.AddRow((oneBackend ? cells[1..] : cells).Select(Markup.Escape).ToArray());
            }

            footer = Invariant($"Rows with {fewest} client(s); the whole table is {TableWidth(headers, rows)} columns wide, the screen {width}: ") +
                (written ? $"every row and column is in {ResultsMarkdown}." : $"add --out DIR for every row and column in {ResultsMarkdown}.");
        }

        AnsiConsole.Write(table);
        if (footer is not null)
        {
            AnsiConsole.WriteLine(footer);
        }

        foreach (var build in run.Builds)
        {
            AnsiConsole.WriteLine(BuildLine(build));
        }

        foreach (var line in run.Notes.Concat(run.Summary))
        {
            AnsiConsole.WriteLine(line);
        }
    }

    /// <summary>The width a bordered table of these cells takes: each column's widest cell, padding and borders.</summary>
    public static int TableWidth(IReadOnlyList<string> headers, IReadOnlyList<string[]> rows) =>
        1 + headers.Select((header, i) => rows.Select(r => r[i].Length).Append(header.Length).Max() + 3).Sum();

    public static string Markdown(BenchRun run)
    {
        var md = new StringBuilder();
        var k = run.Settings.K;
        md.AppendLine("# mrl bench results").AppendLine();
        md.AppendLine(Invariant($"- date: {run.Started:yyyy-MM-dd HH:mm zzz}, {run.Elapsed.TotalMinutes:F1} minutes"));
        md.AppendLine("- machine: " + Machine().Summary);
        md.AppendLine("- data: " + run.Data.Description + ", metric " + run.Data.Metric);
        md.AppendLine(Invariant($"- k = {k}; recall@{k} against exact full-dimension kNN ({run.TruthSource})"));
        foreach (var (name, settings) in run.BackendSettings)
        {
            md.AppendLine("- " + name + ": " + settings);
        }

        if (run.MemoryBandwidth is { } bandwidth)
        {
            md.AppendLine(Invariant($"- memory bandwidth: {bandwidth / 1e9:F2} GB/s (a parallel SIMD sum over {run.Settings.BandwidthBytes / 1048576} MiB on {Environment.ProcessorCount} threads, best of 5)"));
        }

        md.AppendLine(Invariant($"- {run.Settings.Rounds} round(s): every configuration measured once a round, round-robin across all of them; each figure is the median over the rounds, with the lowest and highest round where a range is given"));
        md.AppendLine("- command: `" + run.Settings.CommandLine + "`").AppendLine();

        md.AppendLine(Invariant($"## Summary at recall@{k} >= {run.Settings.TargetRecall}")).AppendLine();
        foreach (var line in run.Notes.Concat(run.Summary))
        {
            md.AppendLine("- " + line);
        }

        md.AppendLine().AppendLine("## Index builds").AppendLine();
        md.AppendLine("| backend | index | prefix dims | build s | size MiB | workers planned | workers seen |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var b in run.Builds)
        {
            md.AppendLine(Invariant($"| {b.Backend} | {b.Index} | {(b.PrefixDims is { } p ? Text(p) : "full")} | {(b.Seconds is { } s ? F(s, "F1") : "-")} | {(b.Bytes is { } bytes ? F(bytes / 1048576.0, "F1") : "-")} | {Text(b.WorkersPlanned)} | {Text(b.WorkersSeen)} |"));
        }

        md.AppendLine().AppendLine("## Every configuration").AppendLine();
        md.AppendLine(Invariant($"| backend | strategy | prefix dims | oversampling | ef_search | clients | recall@{k} | QPS | QPS range | p50 ms | p95 ms | p99 ms | build s | index MiB | KiB fetched/query | DB CPU ms/query |"));
        md.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in run.Rows.Select(r => r.Result))
        {
            md.AppendLine(Invariant(
                $"| {r.Backend} | {r.Strategy} | {Text(r.PrefixDims)} | {r.Oversampling} | {Text(r.EfSearch)} | {r.Clients} | {F(r.Recall, "F4")} | {F(r.Qps, "F1")} | {QpsRange(r)} | {F(r.P50Ms, "F2")} | {F(r.P95Ms, "F2")} | {F(r.P99Ms, "F2")} | {(r.BuildSeconds is { } s ? F(s, "F1") : "-")} | {(r.IndexBytes is { } bytes ? F(bytes / 1048576.0, "F1") : "-")} | {F(r.BytesPerQuery / 1024, "F1")} | {Cpu(r)} |"));
        }

        md.AppendLine().AppendLine("![recall vs QPS](" + Plot + ")");
        return md.ToString();
    }

    public static string BuildLine(IndexBuildRecord b) => Invariant(
        $"{b.Backend} index {b.Index}: {(b.Bytes is { } bytes ? Invariant($"{bytes / 1048576.0:F1} MiB") : "size unknown")}{(b.Seconds is { } s ? Invariant($", built in {s:F1} s") : "")}{(b.WorkersPlanned is { } w ? Invariant($", {w} parallel workers planned, {Text(b.WorkersSeen)} seen") : "")}");

    public static MachineInfo Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var summary = Invariant($"{cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {Environment.ProcessorCount} cores, {memory / 1073741824.0:F0} GiB, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}");
        return new MachineInfo(summary, RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, cpu, Environment.ProcessorCount, memory);
    }

    /// <summary>The machine a run measured on.</summary>
    internal sealed record MachineInfo(string Summary, string Os, string Runtime, string? Cpu, int Cores, long MemoryBytes);

    private static string PlotTitle(BenchRun run) =>
        Invariant($"{run.Data.Count:N0} x {run.Data.Dimensions}, k = {run.Settings.K}, {run.Data.Queries.Rows:N0} queries, {string.Join(" + ", run.BackendSettings.Keys)}");

    private static string QpsRange(BenchResult r) => r.Rounds > 1 ? Invariant($"{r.QpsMin:F1}-{r.QpsMax:F1}") : "-";

    private static string Cpu(BenchResult r) => r.DbCpuMsPerQuery is { } cpu ? F(cpu, "F3") : "-";

    private static string Text(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
