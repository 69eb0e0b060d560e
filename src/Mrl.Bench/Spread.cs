namespace Mrl.Bench;

/// <summary>A figure measured once per round: its median, and the lowest and highest round.</summary>
/// <param name="Median">The middle round (the mean of the two middle rounds for an even count).</param>
/// <param name="Min">The lowest round.</param>
/// <param name="Max">The highest round.</param>
/// <param name="Count">Rounds.</param>
internal readonly record struct Spread(double Median, double Min, double Max, int Count)
{
    /// <summary>The spread of <paramref name="values"/>.</summary>
    /// <exception cref="ArgumentException">There are no values.</exception>
    public static Spread Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("A spread needs at least one value.", nameof(values));
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary>The spread of the values present; null when none is (a figure the backend could not measure).</summary>
    public static Spread? OfPresent(IEnumerable<double?> values)
    {
        var present = values.Where(v => v is not null).Select(v => v!.Value).ToArray();
        return present.Length == 0 ? null : Of(present);
    }

    /// <summary>Max over min minus one: how far the rounds moved, as a fraction of the lowest.</summary>
    public double Range => Min > 0 ? Max / Min - 1 : 0;
}
