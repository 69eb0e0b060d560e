namespace Mrl.Bench;

/// <summary>The configurations a sweep measures, each once.</summary>
internal static class BenchPlan
{
    /// <summary>
    /// Every strategy at every prefix size, oversampling and ef_search that applies to it. The backend raises ef_search to
    /// the candidate count, so settings that would run the same search are measured once, under the ef_search that runs.
    /// </summary>
    public static IReadOnlyList<BenchConfiguration> Build(
        IReadOnlyList<string> strategies, IReadOnlyList<int> prefixDims, IReadOnlyList<int> oversampling, IReadOnlyList<int> efSearch, int k, BackendFeatures features)
    {
        var plan = new List<BenchConfiguration>();
        var seen = new HashSet<BenchConfiguration>();
        foreach (var strategy in strategies.Where(s => !features.Unsupported.ContainsKey(s)))
        {
            int?[] prefixes = strategy is BenchStrategy.Full or BenchStrategy.BqRerank ? [null] : prefixDims.Select(p => (int?)p).ToArray();
            var factors = strategy is BenchStrategy.Full or BenchStrategy.Prefix ? [1] : oversampling;
            foreach (var p in prefixes)
            {
                foreach (var factor in factors)
                {
                    var candidates = k * factor;
                    IEnumerable<int?> efs = features.EfSearch
                        ? efSearch.Select(ef => (int?)Math.Min(features.MaxEfSearch, Math.Max(ef, candidates)))
                        : [null];
                    foreach (var ef in efs)
                    {
                        var configuration = new BenchConfiguration(strategy, p, factor, ef);
                        if (seen.Add(configuration))
                        {
                            plan.Add(configuration);
                        }
                    }
                }
            }
        }

        return plan;
    }

    /// <summary>Parses a comma-separated list of positive integers for the option named <paramref name="option"/>.</summary>
    /// <exception cref="ArgumentException">An item is not a positive integer.</exception>
    public static IReadOnlyList<int> ParseList(string text, string option)
    {
        var values = new List<int>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(item, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < 1)
            {
                throw new ArgumentException($"{option}: '{item}' is not a positive whole number.");
            }

            if (!values.Contains(value))
            {
                values.Add(value);
            }
        }

        return values.Count > 0 ? values : throw new ArgumentException($"{option}: give at least one value.");
    }

    /// <summary>
    /// A memory size as PostgreSQL writes one: a number and one of kB, MB, GB or TB, in powers of 1024 as PostgreSQL's own
    /// settings are (<c>2GB</c>, <c>1536MB</c>, <c>3.5GB</c>).
    /// </summary>
    public static long ParseBytes(string text, string option)
    {
        var trimmed = text.Trim();
        var unit = trimmed.TrimStart("0123456789.".ToCharArray());
        var number = trimmed[..^unit.Length];
        long? scale = unit.Trim() switch
        {
            "kB" => 1L << 10,
            "MB" => 1L << 20,
            "GB" => 1L << 30,
            "TB" => 1L << 40,
            _ => null,
        };
        if (scale is null || !double.TryParse(number, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new ArgumentException($"{option}: '{text}' is not a memory size; write a number and kB, MB, GB or TB, as PostgreSQL does (e.g. 2GB, 1536MB).");
        }

        return (long)(value * scale.Value);
    }
}
