using System.Globalization;
using Mrl.Adapters;

namespace Mrl.Bench;

/// <summary>The exact k nearest base vectors of every query on the full vectors: what recall is measured against.</summary>
internal static class GroundTruth
{
    /// <summary>The default cache folder: <c>$XDG_CACHE_HOME/mrl/truth</c>, or <c>~/.cache/mrl/truth</c>.</summary>
    public static string DefaultCacheDirectory =>
        Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache
            ? cache
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "mrl", "truth");

    /// <summary>
    /// The true neighbours: from the data set's truth file, else from the cache keyed by the data's identity, the metric
    /// and k, else computed exactly (parallel SIMD brute force) and cached. <paramref name="cacheDirectory"/> null disables the cache.
    /// </summary>
    public static VectorMatrix<int> Get(BenchDataset data, int k, string? cacheDirectory, Action<int> progress, out string source)
    {
        if (data.GivenTruth is { } given)
        {
            if (given.Dimensions < k)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"The truth file has {given.Dimensions} neighbours per query; recall@{k} needs at least {k}. Lower --k."));
            }

            source = "truth file";
            return Truncate(given, k, data.Queries.Rows);
        }

        string? path = null;
        if (cacheDirectory is not null)
        {
            path = Path.Combine(cacheDirectory, string.Create(CultureInfo.InvariantCulture, $"{data.Identity}-{data.Metric}-k{k}.ivecs").ToLowerInvariant());
            if (File.Exists(path))
            {
                var cached = TexmexFormat.ReadIvecs(path);
                if (cached.Rows == data.Queries.Rows && cached.Dimensions == Math.Min(k, data.Count))
                {
                    source = "cache " + path;
                    return cached;
                }
            }
        }

        var truth = Compute(data, k, progress);
        source = "computed exactly";
        if (path is not null)
        {
            Directory.CreateDirectory(cacheDirectory!);
            var temporary = path + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            TexmexFormat.WriteIvecs(temporary, truth);
            File.Move(temporary, path, overwrite: true);
            source += ", cached in " + path;
        }

        return truth;
    }

    /// <summary>Exact search for every query, in parallel across queries (and across cores within a query on large data).</summary>
    public static VectorMatrix<int> Compute(BenchDataset data, int k, Action<int> progress)
    {
        var n = data.Count;
        var d = data.Dimensions;
        var width = Math.Min(k, n);

        // Unit vectors rank the same by dot product as by cosine, and the dot product skips two norms per row.
        var metric = data.Metric == DistanceMetric.Cosine && data.IsNormalized() ? DistanceMetric.DotProduct : data.Metric;
        var ids = new int[data.Queries.Rows * width];
        var done = 0;
        Parallel.For(0, data.Queries.Rows, q =>
        {
            var best = ExactKnn.Search(data.Base.Values, n, d, data.Queries.Row(q), width, metric);
            for (var i = 0; i < best.Length; i++)
            {
                ids[(q * width) + i] = best[i].Index;
            }

            progress(Interlocked.Increment(ref done));
        });
        return new VectorMatrix<int>(ids, data.Queries.Rows, width);
    }

    private static VectorMatrix<int> Truncate(VectorMatrix<int> truth, int k, int rows)
    {
        if (truth.Dimensions == k && truth.Rows == rows)
        {
            return truth;
        }

        var ids = new int[rows * k];
        for (var row = 0; row < rows; row++)
        {
            truth.RowSpan(row)[..k].CopyTo(ids.AsSpan(row * k, k));
        }

        return new VectorMatrix<int>(ids, rows, k);
    }
}
