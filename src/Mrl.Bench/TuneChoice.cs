using System.Globalization;

namespace Mrl.Bench;

/// <summary>A configuration that met the target, with the QPS of every round it was measured in.</summary>
internal sealed record Contender(BenchRow Row, IReadOnlyList<double> RoundQps)
{
    public double MeanQps => RoundQps.Average();

    /// <summary>Half the range of the rounds' QPS: how far one measurement of this configuration strays.</summary>
    public double Spread => (RoundQps.Max() - RoundQps.Min()) / 2;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Row.Configuration} {MeanQps:F1} ± {Spread:F1} QPS");
}

/// <summary>
/// Picks among the configurations that met the target. A lead smaller than the measured spread is noise: two identical runs
/// would disagree on it, so the simplest configuration whose range reaches the fastest one's wins (full before two-pass
/// before two-pass-db, then fewer candidates, a lower ef_search and a shorter prefix).
/// </summary>
internal static class TuneChoice
{
    public static (Contender Chosen, Contender Fastest) Choose(IReadOnlyList<Contender> contenders)
    {
        ArgumentOutOfRangeException.ThrowIfZero(contenders.Count);
        var fastest = contenders.MaxBy(c => c.MeanQps)!;
        var chosen = contenders.OrderBy(c => Simplicity(c.Row.Configuration))
            .ThenBy(c => c.Row.Configuration.Oversampling)
            .ThenBy(c => c.Row.Configuration.EfSearch ?? 0)
            .ThenBy(c => c.Row.Configuration.PrefixDims ?? 0)
            .First(c => c == fastest || c.MeanQps + c.Spread >= fastest.MeanQps - fastest.Spread);
        return (chosen, fastest);
    }

    /// <summary>0 for a single pass over the full vectors, 1 for a rerank in process, 2 for a rerank in the database.</summary>
    public static int Simplicity(BenchConfiguration configuration) => configuration.Strategy switch
    {
        BenchStrategy.Full => 0,
        BenchStrategy.TwoPass => 1,
        BenchStrategy.TwoPassInDatabase => 2,
        _ => 3,
    };
}
