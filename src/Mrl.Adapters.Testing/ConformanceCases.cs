using Mrl.Adapters.Filtering;
using Xunit;

namespace Mrl.Adapters.Testing;

/// <summary>The data behind the conformance suite's theories.</summary>
public static class ConformanceCases
{
    internal static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly FilterValue[] CategoriesZeroAndThree = ["c0", "c3"];
    private static readonly FilterValue[] SomeRanks = [1, 2, 3, 58];

    /// <summary>The filter cases: name, filter, and which record numbers (0..59) it matches.</summary>
    public static TheoryData<string> FilterCases => new(FilterCatalog.Keys);

    internal static readonly Dictionary<string, (Filter Filter, Func<int, bool> Expected)> FilterCatalog = new()
    {
        ["eq-string"] = (Filter.Eq("category", "c1"), i => i % 10 != 9 && i % 4 == 1),
        ["eq-int"] = (Filter.Eq("rank", 17), i => i == 17),
        ["eq-bool"] = (Filter.Eq("even", true), i => i % 2 == 0),
        ["in-strings"] = (Filter.In("category", CategoriesZeroAndThree), i => i % 10 != 9 && i % 4 is 0 or 3),
        ["in-ints"] = (Filter.In("rank", SomeRanks), i => i is 1 or 2 or 3 or 58),
        ["range-gte-lt"] = (Filter.Range("rank", gte: 10, lt: 20), i => i is >= 10 and < 20),
        ["range-gt-lte-fraction"] = (Filter.Range("score", gt: 4.5, lte: 10.0), i => i / 2.0 is > 4.5 and <= 10.0),
        ["date-range"] = (Filter.DateRange("created", gte: Epoch.AddDays(30), lt: Epoch.AddDays(33)), i => i is >= 30 and < 33),
        ["and"] = (Filter.Eq("category", "c2") & Filter.Range("rank", lt: 30), i => i % 10 != 9 && i % 4 == 2 && i < 30),
        ["or"] = (Filter.Eq("rank", 5) | Filter.Eq("category", "c3"), i => i == 5 || (i % 10 != 9 && i % 4 == 3)),
        ["not-matches-missing-field"] = (!Filter.Eq("category", "c0"), i => !(i % 10 != 9 && i % 4 == 0)),
        ["not-of-and"] = (!(Filter.Eq("even", true) & Filter.Range("rank", gte: 10)), i => !(i % 2 == 0 && i >= 10)),
        ["no-match"] = (Filter.Eq("category", "none"), _ => false),
        ["type-mismatch-does-not-match"] = (Filter.Eq("rank", "17"), _ => false),
    };

    /// <summary>The cases of invalid vectors: name and how to spoil a valid vector.</summary>
    public static TheoryData<string> InvalidVectorCases => new(InvalidVectors.Keys);

    internal static readonly Dictionary<string, Func<float[], float[]>> InvalidVectors = new()
    {
        ["too-short"] = v => v[..^1],
        ["too-long"] = v => [.. v, 0.5f],
        ["nan"] = v => { v[3] = float.NaN; return v; },
        ["positive-infinity"] = v => { v[0] = float.PositiveInfinity; return v; },
        ["negative-infinity"] = v => { v[^1] = float.NegativeInfinity; return v; },
        ["zero"] = v => new float[v.Length],
        ["zero-prefix"] = v => { Array.Clear(v, 0, 8); return v; },
        ["overflowing"] = v => { Array.Fill(v, float.MaxValue); return v; },
    };

    /// <summary>The metrics every store supports.</summary>
    public static TheoryData<DistanceMetric> Metrics => new(DistanceMetric.Cosine, DistanceMetric.DotProduct, DistanceMetric.Euclidean, DistanceMetric.Manhattan);
}
