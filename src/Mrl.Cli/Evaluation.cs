namespace Mrl.Cli;

/// <summary>Recall and latency figures for one strategy over a query set.</summary>
internal sealed record Evaluation(string Strategy, int Oversampling, double Recall, double MeanMs, double P95Ms, double MeanCandidates)
{
    /// <summary>The fraction of the true top-k keys found, averaged over the queries.</summary>
    public static double RecallAtK<TKey>(IReadOnlyList<TKey> truth, IEnumerable<TKey> found) where TKey : notnull
    {
        var expected = truth.ToHashSet();
        return expected.Count == 0 ? 1.0 : found.Count(expected.Contains) / (double)expected.Count;
    }

    /// <summary>The value below which <paramref name="fraction"/> of the sorted samples fall (nearest rank).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double fraction)
    {
        if (sorted.Count == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(fraction * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }
}
