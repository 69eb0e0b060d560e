using System.CommandLine;
using System.Globalization;
using Mrl.Adapters;
using Mrl.Bench;
using Mrl.Bench.Synthetic;
using Spectre.Console;

namespace Mrl.Cli.Commands;

/// <summary>
/// <c>mrl inspect</c>: on a sample of the user's vectors, how much of the exact top-k the truncated prefix and a projected
/// key find as pass-1 keys, and which one to use (<see cref="KeyInspection"/>).
/// </summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var connection = new Option<string?>("--connection", "-c") { Description = "Npgsql connection string of the --table's server." };
        var table = new Option<string?>("--table", "-t") { Description = "A pgvector table to sample (name or schema.name); read only." };
        var keyColumn = new Option<string>("--key-column") { Description = "The table's key column (the sample is the first rows in its order).", DefaultValueFactory = _ => "id" };
        var vectorColumn = new Option<string>("--vector-column") { Description = "The table's full-vector column (vector or halfvec).", DefaultValueFactory = _ => "embedding" };
        var scopeColumn = new Option<string?>("--scope-column") { Description = "Column that tells collections in one table apart (LangChain: collection_id)." };
        var scopeValue = new Option<string?>("--scope-value") { Description = "The collection's value of --scope-column: only its rows are read." };
        var basePath = new Option<string?>("--base") { Description = "A file of vectors (.fvecs or .npy) to sample instead of a table." };
        var sample = new Option<int>("--sample") { Description = "Vectors to read from the table or file, or to generate; the queries are held out of them.", DefaultValueFactory = _ => ProjectionFitter.DefaultSampleSize };
        var queries = new Option<int>("--queries") { Description = "Vectors held out as queries.", DefaultValueFactory = _ => 100 };
        var prefix = new Option<int>("--prefix", "-p") { Description = "Key dimensions to inspect.", Required = true };
        var k = new Option<int>("--k") { Description = "The k of the exact top-k.", DefaultValueFactory = _ => 10 };
        var oversampling = new Option<string>("--oversampling") { Description = "Oversampling factors: pass 1 keeps k x oversampling candidates.", DefaultValueFactory = _ => "1,2,4,8,16" };
        var target = new Option<double>("--target-recall") { Description = "The share of the exact top-k a usable key finds.", DefaultValueFactory = _ => 0.99 };
        var metric = new Option<DistanceMetric>("--metric") { Description = "Cosine, DotProduct, Euclidean or Manhattan (tables and files).", DefaultValueFactory = _ => DistanceMetric.Cosine };
        var dims = new Option<int>("--dims") { Description = "Dimensions of synthetic vectors (without --table and --base).", DefaultValueFactory = _ => 768 };
        var difficulty = new Option<double>("--difficulty") { Description = "Spread of the synthetic clusters (higher is harder).", DefaultValueFactory = _ => BenchOptions.DefaultDifficulty };
        var rotate = new Option<bool>("--rotate") { Description = "Rotate the synthetic vectors: data like a model trained without a Matryoshka loss." };
        var spectrum = new Option<SyntheticSpectrum>("--spectrum") { Description = "Decaying (Matryoshka-like) or Flat variance over the synthetic dimensions.", DefaultValueFactory = _ => SyntheticSpectrum.Decaying };
        var seed = new Option<int>("--seed") { Description = "Seed of the held-out queries and of synthetic data.", DefaultValueFactory = _ => 42 };

        var command = new Command("inspect",
            "On a sample of your vectors, measure how much of the exact top-k the first --prefix values and a projected key find as pass-1 keys, " +
            "and recommend truncation, a projection (mrl fit-projection), or the full vector.");
        foreach (var option in new Option[]
        {
            connection, table, keyColumn, vectorColumn, scopeColumn, scopeValue, basePath, sample, queries, prefix, k, oversampling, target, metric,
            dims, difficulty, rotate, spectrum, seed,
        })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var held = parse.GetValue(queries);
            var rows = parse.GetValue(sample);
            ArgumentOutOfRangeException.ThrowIfLessThan(held, 1, "--queries");
            if (rows <= held)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"--sample {rows} must be larger than --queries {held}: the queries are held out of the sample."));
            }

            var goal = parse.GetValue(target);
            if (goal is <= 0 or > 1)
            {
                throw new ArgumentException("--target-recall must be above 0 and at most 1.");
            }

            var synthetic = parse.GetValue(rotate) || parse.GetValue(spectrum) != SyntheticSpectrum.Decaying;
            BenchDataset data;
            if (parse.GetValue(table) is { } tableName)
            {
                if (parse.GetValue(basePath) is not null || synthetic)
                {
                    throw new ArgumentException("--table samples a table: leave out --base, --rotate and --spectrum.");
                }

                if (string.IsNullOrWhiteSpace(parse.GetValue(connection)))
                {
                    throw new ArgumentException("--table needs --connection \"Host=...;Username=...;Database=...\" (the table's server).");
                }

                var source = new SourceTableOptions(parse.GetValue(connection)!, tableName, parse.GetValue(keyColumn)!, parse.GetValue(vectorColumn)!,
                    parse.GetValue(scopeColumn), parse.GetValue(scopeValue));
                data = await SourceTable.ReadAsync(source, held, rows, parse.GetValue(seed), parse.GetValue(metric), _ => { }, cancellationToken);
            }
            else if (parse.GetValue(basePath) is { } path)
            {
                if (synthetic)
                {
                    throw new ArgumentException("--rotate and --spectrum shape synthetic data; they do not apply to --base files.");
                }

                var vectors = VectorFiles.ReadVectors(path, rows);
                if (vectors.Rows <= held)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{path} has {vectors.Rows} vectors; {held} are held out as queries, so it needs more. Lower --queries."));
                }

                data = BenchDataset.HoldOut(Enumerable.Range(0, vectors.Rows).Select(vectors.Row).ToArray(), held, parse.GetValue(seed), parse.GetValue(metric),
                    (b, d, q) => string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(path)}: {b:N0} x {d}, {q:N0} queries held out from it, {parse.GetValue(metric)}"));
            }
            else
            {
                if (parse.GetValue(metric) != DistanceMetric.Cosine)
                {
                    throw new ArgumentException("Synthetic vectors are unit length and searched by cosine; --metric applies to --table and --base.");
                }

                var options = new SyntheticCorpusOptions
                {
                    Dimensions = parse.GetValue(dims), Difficulty = parse.GetValue(difficulty), Seed = parse.GetValue(seed),
                    Rotated = parse.GetValue(rotate), Spectrum = parse.GetValue(spectrum),
                };
                data = BenchDataset.Synthetic(options, rows - held, held);
            }

            var p = parse.GetValue(prefix);
            var result = KeyInspection.Run(data, p, parse.GetValue(k), BenchPlan.ParseList(parse.GetValue(oversampling)!, "--oversampling"), goal, cancellationToken);
            var report = new Table().AddColumns("oversampling", "candidates", $"truncate p={p}", $"projection p={p}");
            foreach (var row in result.Rows)
            {
                report.AddRow($"x{row.Oversampling}", row.Candidates.ToString(CultureInfo.InvariantCulture), Share(row.Truncate, goal), Share(row.Projection, goal));
            }

            Console.WriteLine(TerminalText.Plain(data.Description));
            AnsiConsole.Write(report);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Share of the exact top {parse.GetValue(k)} among the key's first k x oversampling candidates; projection fitted on {data.Count:N0} vectors in {result.FitTime.TotalSeconds:F1} s."));
            Console.WriteLine(result.Explain(p, goal));
            return 0;
        });
        return command;
    }

    private static string Share(double value, double goal) =>
        value >= goal ? $"[green]{value.ToString("F3", CultureInfo.InvariantCulture)}[/]" : value.ToString("F3", CultureInfo.InvariantCulture);
}
