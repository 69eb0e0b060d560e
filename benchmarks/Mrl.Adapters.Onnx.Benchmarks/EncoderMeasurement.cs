using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Benchmarks;

/// <summary>
/// <c>measure</c>: whole <see cref="OnnxEmbeddingGenerator.GenerateAsync"/> calls of many texts, with and without
/// sorting by token length, timed around the call and around each <c>InferenceSession.Run</c> inside it
/// (<see cref="GenerationTimer"/>), and the padding run counted. Rounds interleave the cases, so a neighbour's load on a
/// shared machine falls on all of them; the table gives each figure's median over the rounds and its range.
/// </summary>
/// <remarks>
/// Usage: <c>measure [--model DIR]... [--rounds N] [--seconds S] [--texts N] [--batch N] [--threads N]</c>. Without
/// <c>--model</c>, the test fixture model. The texts are the fixture sentences (5 to 45 tokens) in a seeded random
/// order, repeated to <c>--texts</c>.
/// </remarks>
internal static class EncoderMeasurement
{
    public static int Run(string[] args)
    {
        var models = new List<string>();
        var rounds = 7;
        var seconds = 2.0;
        var textCount = 256;
        var batchSize = OnnxEmbeddingGeneratorOptions.DefaultBatchSize;
        var threads = 1;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--model": models.Add(value); break;
                case "--rounds": rounds = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--texts": textCount = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--batch": batchSize = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown argument {args[i]}.");
            }

            i++;
        }

        if (models.Count == 0)
        {
            models.Add(FixtureModel.Directory);
        }

        var texts = Shuffled(FixtureModel.Sentences(textCount), seed: 20240505);
        var cases = models
            .SelectMany(model => new[] { false, true }.Select(sort => new Case(model, sort, OnnxEmbeddingGenerator.FromDirectory(model, new()
            {
                BatchSize = batchSize,
                IntraOpNumThreads = threads,
                SortByLength = sort,
            }))))
            .ToList();
        try
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{textCount} texts per call, batch {batchSize}, {threads} intra-op thread(s), {rounds} rounds of >= {seconds} s per case, {Environment.ProcessorCount} cores"));
            foreach (var c in cases)
            {
                // Until tiered compilation has optimized the managed code it would count as time outside Run.
                Measure(c.Generator, texts, seconds: 3);
            }

            for (var round = 0; round < rounds; round++)
            {
                // Interleaved, and in a different order each round, so drifting load does not favour one case.
                foreach (var c in round % 2 == 0 ? cases : Enumerable.Reverse(cases))
                {
                    c.Rounds.Add(Measure(c.Generator, texts, seconds));
                }
            }

            Console.WriteLine();
            Console.WriteLine("| model | sorted by length | sentences/s | outside Run | padding / positions run | calls |");
            Console.WriteLine("| --- | --- | --- | --- | --- | --- |");
            foreach (var c in cases)
            {
                var padding = c.Rounds[0].PaddingShare;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Path.GetFileName(c.Model.TrimEnd('/'))} | {(c.Sorted ? "yes" : "no")} | {Spread(c.Rounds.Select(r => r.SentencesPerSecond), "N0")} | " +
                    $"{Spread(c.Rounds.Select(r => r.OutsideRunShare * 100), "F1", "%")} | {padding * 100:F1}% | {c.Rounds.Sum(r => r.Calls)} |"));
            }

            return 0;
        }
        finally
        {
            foreach (var c in cases)
            {
                c.Generator.Dispose();
            }
        }
    }

    private static Round Measure(OnnxEmbeddingGenerator generator, string[] texts, double seconds)
    {
        var timer = new GenerationTimer();
        generator.Timer = timer;
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        do
        {
            generator.GenerateAsync(texts).GetAwaiter().GetResult();
        }
        while (Stopwatch.GetTimestamp() < until || timer.Calls < 2);

        generator.Timer = null;
        return new Round(timer.Calls * texts.Length / timer.CallTime.TotalSeconds, timer.OutsideRunShare, timer.PaddingShare, timer.Calls);
    }

    /// <summary>"median (min-max)".</summary>
    private static string Spread(IEnumerable<double> values, string format, string unit = "")
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return string.Create(CultureInfo.InvariantCulture,
            $"{median.ToString(format, CultureInfo.InvariantCulture)}{unit} ({sorted[0].ToString(format, CultureInfo.InvariantCulture)}–{sorted[^1].ToString(format, CultureInfo.InvariantCulture)}{unit})");
    }

    private static string[] Shuffled(string[] texts, int seed)
    {
        var random = new Random(seed);
        var shuffled = texts.ToArray();
        random.Shuffle(shuffled);
        return shuffled;
    }

    private sealed record Case(string Model, bool Sorted, OnnxEmbeddingGenerator Generator)
    {
        public List<Round> Rounds { get; } = [];
    }

    private sealed record Round(double SentencesPerSecond, double OutsideRunShare, double PaddingShare, long Calls);
}
