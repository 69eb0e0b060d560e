namespace Mrl.Adapters.Testing;

/// <summary>
/// Vectors with a Matryoshka-like spectrum for the conformance suite: four cluster centres, each value drawn around its
/// centre with a spread that shrinks along the vector, so that a prefix ranks roughly as the whole vector does.
/// Deterministic for a seed; another <c>stream</c> gives other points around the same centres.
/// </summary>
public static class ConformanceVectors
{
    private const int Clusters = 4;

    /// <summary><paramref name="count"/> unit vectors of <paramref name="dimensions"/> values, row-major.</summary>
    public static float[] Generate(int count, int dimensions, int seed, int stream = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var centres = new Random(seed);
        var centre = new float[Clusters * dimensions];
        for (var i = 0; i < centre.Length; i++)
        {
            centre[i] = (float)(centres.NextDouble() * 2 - 1) / MathF.Sqrt(1 + (i % dimensions));
        }

        var points = new Random(unchecked((seed * 31) + stream + 1));
        var data = new float[count * dimensions];
        for (var row = 0; row < count; row++)
        {
            var offset = points.Next(Clusters) * dimensions;
            var vector = data.AsSpan(row * dimensions, dimensions);
            for (var j = 0; j < dimensions; j++)
            {
                vector[j] = centre[offset + j] + (float)((points.NextDouble() - 0.5) * 0.5 / Math.Sqrt(1 + j));
            }

            VectorMath.TryNormalize(vector);
        }

        return data;
    }
}
