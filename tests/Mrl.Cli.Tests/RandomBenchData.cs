using Mrl.Adapters;
using Mrl.Bench;

namespace Mrl.Cli.Tests;

/// <summary>Random unit vectors (no Matryoshka structure) as a benchmark data set, the same for the same seed.</summary>
internal static class RandomBenchData
{
    public static BenchDataset Create(int rows, int queries, int dims, int seed)
    {
        var random = new Random(seed);
        float[] Unit(int count)
        {
            var values = Enumerable.Range(0, count * dims).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            for (var row = 0; row < count; row++)
            {
                VectorMath.TryNormalize(values.AsSpan(row * dims, dims));
            }

            return values;
        }

        return new BenchDataset("random unit vectors", new VectorMatrix<float>(Unit(rows), rows, dims), new VectorMatrix<float>(Unit(queries), queries, dims), DistanceMetric.Cosine, null);
    }
}
