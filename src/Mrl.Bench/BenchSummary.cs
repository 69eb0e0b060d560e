using System.Globalization;

namespace Mrl.Bench;

/// <summary>The in-memory pass 1's scan rate for one prefix size, against the measured memory bandwidth.</summary>
/// <param name="PrefixDims">The prefix scanned.</param>
/// <param name="BytesPerSecond">Prefix bytes scanned per second of pass 1, one client.</param>
/// <param name="FractionOfBandwidth">The rate over the parallel-sum bandwidth; null when the bandwidth was not measured.</param>
internal sealed record ScanRate(int PrefixDims, double BytesPerSecond, double? FractionOfBandwidth);

/// <summary>
/// The ratios the goals are stated in, computed from one run: every figure side by side, at the target recall. The best
/// configuration of a strategy is chosen by its median QPS; a ratio between two configurations is computed in each round
/// (both were measured in it, close together) and reported as the median of the rounds, with the lowest and the highest.
/// </summary>
internal static class BenchSummary
{
    private static readonly string[] Contenders =
        [BenchStrategy.BqRerank, BenchStrategy.TwoPass, BenchStrategy.TwoPassInDatabase, BenchStrategy.TwoPassCachedWarm, BenchStrategy.TwoPassCachedCold, BenchStrategy.Prefix];

    private static readonly string[] TwoPassFamily =
        [BenchStrategy.TwoPass, BenchStrategy.TwoPassInDatabase, BenchStrategy.TwoPassCachedWarm, BenchStrategy.TwoPassCachedCold];

    public static IReadOnlyList<string> Lines(IReadOnlyList<BenchRow> rows, IReadOnlyList<IndexBuildRecord> builds, IReadOnlyList<ScanRate> scanRates, double target, double? bandwidth)
    {
        var lines = new List<string>();
        foreach (var backend in rows.Select(r => r.Result.Backend).Distinct())
        {
            var mine = rows.Where(r => r.Result.Backend == backend).ToList();
            foreach (var clients in mine.Select(r => r.Result.Clients).Distinct().Order())
            {
                var atClients = mine.Where(r => r.Result.Clients == clients).ToList();
                var full = Best(atClients, BenchStrategy.Full, target);
                var header = string.Create(CultureInfo.InvariantCulture, $"{backend}, {clients} client{(clients == 1 ? "" : "s")}");
                if (full is null)
                {
                    var closest = atClients.Where(r => r.Result.Strategy == BenchStrategy.Full).MaxBy(r => r.Result.Recall);
                    lines.Add(closest is null
                        ? $"{header}: no full-dimension baseline ran."
                        : string.Create(CultureInfo.InvariantCulture,
                            $"{header}: full never reached recall {target}; its best was {closest.Result.Recall:F4} ({closest.Configuration}), so QPS ratios below are not at equal recall."));
                }
                else
                {
                    lines.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{header}: full reaches recall >= {target} at {Qps(full)} ({full.Configuration}, recall {full.Result.Recall:F4}){Cpu(full, null)}."));
                }

                foreach (var strategy in Contenders)
                {
                    if (!atClients.Any(r => r.Result.Strategy == strategy))
                    {
                        continue;
                    }

                    var best = Best(atClients, strategy, target);
                    if (best is null)
                    {
                        var closest = atClients.Where(r => r.Result.Strategy == strategy).MaxBy(r => r.Result.Recall)!;
                        lines.Add(string.Create(CultureInfo.InvariantCulture,
                            $"{header}: {strategy} never reached recall {target} (best {closest.Result.Recall:F4}, {closest.Configuration})."));
                        continue;
                    }

                    var ratio = full is null ? "" : " = " + RatioText(QpsRatio(best, full)) + " full";
                    lines.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{header}: best {strategy} at recall >= {target}: {Qps(best)} ({best.Configuration}, recall {best.Result.Recall:F4}){ratio}{Cpu(best, full)}."));
                }

                var pairs = atClients.Where(r => r.Result.Strategy == BenchStrategy.TwoPassCachedCold)
                    .Select(cold => (Cold: cold, Plain: atClients.FirstOrDefault(r => r.Result.Strategy == BenchStrategy.TwoPass
                        && r.Configuration.PrefixDims == cold.Configuration.PrefixDims && r.Configuration.Oversampling == cold.Configuration.Oversampling
                        && r.Configuration.EfSearch == cold.Configuration.EfSearch)))
                    .Where(p => p.Plain is not null)
                    .Select(p => QpsRatio(p.Cold, p.Plain!).Median)
                    .Order()
                    .ToArray();
                if (pairs.Length > 0)
                {
                    lines.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{header}: cold cache vs uncached two-pass at the same settings: median {pairs[pairs.Length / 2]:F2}x, worst {pairs[0]:F2}x of {pairs.Length} configurations."));
                }

                var baseline = new[] { full, Best(atClients, BenchStrategy.BqRerank, target) }.Where(r => r is not null).MaxBy(r => r!.Result.Qps);
                var twoPass = TwoPassFamily.Select(s => Best(atClients, s, target)).Where(r => r is not null).MaxBy(r => r!.Result.Qps);
                if (baseline is not null && twoPass is not null)
                {
                    var ratio = QpsRatio(twoPass, baseline);
                    var verdict = ratio.Median > 1 ? "two-pass wins" : ratio.Median < 1 ? "the baseline wins" : "a tie";
                    lines.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{header}: best two-pass ({twoPass.Result.Strategy}, {Qps(twoPass)}) against the best baseline at recall >= {target} ({baseline.Result.Strategy}, {Qps(baseline)}): {RatioText(ratio)}; {verdict}."));
                }
            }

            var fullBuild = builds.FirstOrDefault(b => b.Backend == backend && b.PrefixDims is null && b.Strategy is null);
            foreach (var build in builds.Where(b => b.Backend == backend && b != fullBuild && b.Bytes is not null && fullBuild?.Bytes is not null))
            {
                var time = build.Seconds is { } s && fullBuild!.Seconds is { } f && f > 0
                    ? string.Create(CultureInfo.InvariantCulture, $", built in {s:F1} s = {s / f:F2}x the full index's {f:F1} s")
                    : "";
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{backend}: {(build.Strategy ?? "prefix " + build.PrefixDims)} index {Mib(build.Bytes!.Value)} MiB = {build.Bytes.Value / (double)fullBuild!.Bytes!.Value:F2}x the full index's {Mib(fullBuild.Bytes.Value)} MiB{time}{Workers(build, fullBuild)}."));
            }
        }

        foreach (var rate in scanRates)
        {
            lines.Add(rate.FractionOfBandwidth is { } fraction
                ? string.Create(CultureInfo.InvariantCulture,
                    $"memory: pass 1 scan rate at prefix {rate.PrefixDims}: {rate.BytesPerSecond / 1e9:F2} GB/s = {fraction:F2} of the memory bandwidth ({bandwidth!.Value / 1e9:F2} GB/s, parallel sum).")
                : string.Create(CultureInfo.InvariantCulture, $"memory: pass 1 scan rate at prefix {rate.PrefixDims}: {rate.BytesPerSecond / 1e9:F2} GB/s (bandwidth not measured)."));
        }

        return lines;
    }

    /// <summary>Pass 1 of the in-memory store scans n × p float32 prefixes per query: that many bytes over the mean pass-1 time.</summary>
    public static IReadOnlyList<ScanRate> ScanRates(IReadOnlyList<BenchRow> rows, double? bandwidth)
    {
        return rows
            .Where(r => r.Result.Backend == "memory" && r.Result.Clients == 1 && r.Result.PrefixDims is not null
                && r.Result.Strategy is BenchStrategy.Prefix or BenchStrategy.TwoPass && r.Measurement.Pass1Ms > 0)
            .GroupBy(r => r.Result.PrefixDims!.Value)
            .Select(g =>
            {
                // The prefix-only search is pass 1 alone; failing that, the fastest two-pass pass 1 (the least extra copying).
                var row = g.FirstOrDefault(r => r.Result.Strategy == BenchStrategy.Prefix) ?? g.MinBy(r => r.Measurement.Pass1Ms)!;
                var rate = (double)row.Result.N * g.Key * sizeof(float) / (row.Measurement.Pass1Ms / 1000);
                return new ScanRate(g.Key, rate, bandwidth is { } b ? rate / b : null);
            })
            .OrderBy(r => r.PrefixDims)
            .ToArray();
    }

    /// <summary>The QPS of <paramref name="row"/> over that of <paramref name="baseline"/>, round by round.</summary>
    /// <exception cref="ArgumentException">The rows were not measured in the same number of rounds.</exception>
    public static Spread QpsRatio(BenchRow row, BenchRow baseline) =>
        row.Rounds.Count == baseline.Rounds.Count
            ? Spread.Of(row.Rounds.Zip(baseline.Rounds, (a, b) => a.Qps / b.Qps))
            : throw new ArgumentException($"{row.Configuration} has {row.Rounds.Count} rounds and {baseline.Configuration} {baseline.Rounds.Count}.", nameof(row));

    /// <summary>The database CPU per search of <paramref name="row"/> over that of <paramref name="baseline"/>, round by round; null where either is unknown.</summary>
    public static Spread? DbCpuRatio(BenchRow row, BenchRow baseline) =>
        row.Rounds.Count == baseline.Rounds.Count
            ? Spread.OfPresent(row.Rounds.Zip(baseline.Rounds, (a, b) => a.DbCpuMsPerQuery is { } x && b.DbCpuMsPerQuery is { } y && y > 0 ? x / y : (double?)null))
            : null;

    /// <summary><c>1.52x</c>, with the rounds' range when there was more than one.</summary>
    public static string RatioText(Spread ratio) => ratio.Count > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{ratio.Median:F2}x (rounds {ratio.Min:F2}-{ratio.Max:F2}x)")
        : string.Create(CultureInfo.InvariantCulture, $"{ratio.Median:F2}x");

    public static BenchRow? Best(IEnumerable<BenchRow> rows, string strategy, double target) =>
        rows.Where(r => r.Result.Strategy == strategy && r.Result.Recall >= target).MaxBy(r => r.Result.Qps);

    private static string Qps(BenchRow row) => row.Result.Rounds > 1
        ? string.Create(CultureInfo.InvariantCulture, $"{row.Result.Qps:F1} QPS ({row.Result.QpsMin:F1}-{row.Result.QpsMax:F1})")
        : string.Create(CultureInfo.InvariantCulture, $"{row.Result.Qps:F1} QPS");

    private static string Cpu(BenchRow row, BenchRow? full)
    {
        if (row.Result.DbCpuMsPerQuery is not { } cpu)
        {
            return "";
        }

        var ratio = full is null ? null : DbCpuRatio(row, full);
        return string.Create(CultureInfo.InvariantCulture, $"; database CPU {cpu:F3} ms/query") + (ratio is { } r ? " = " + RatioText(r) + " full's" : "");
    }

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);

    private static string Workers(IndexBuildRecord build, IndexBuildRecord full) =>
        build.WorkersPlanned is { } planned
            ? string.Create(CultureInfo.InvariantCulture,
                $" (both planned with {planned} parallel workers; seen {Seen(build.WorkersSeen)} and {Seen(full.WorkersSeen)})")
            : "";

    private static string Seen(int? workers) => workers?.ToString(CultureInfo.InvariantCulture) ?? "?";
}
