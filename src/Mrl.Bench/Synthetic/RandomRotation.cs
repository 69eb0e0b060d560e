using System.Numerics.Tensors;

namespace Mrl.Bench.Synthetic;

/// <summary>
/// A seeded dense random orthogonal matrix (Gram-Schmidt of a Gaussian matrix): multiplying Matryoshka-like data by it
/// keeps every distance and spreads each vector's information over all dimensions, as a model trained without a
/// Matryoshka loss does.
/// </summary>
internal sealed class RandomRotation
{
    private readonly float[] _matrix;
    private readonly int _dimensions;

    public RandomRotation(int dimensions, int seed)
    {
        _dimensions = dimensions;
        var d = dimensions;
        _matrix = new float[d * d];
        var random = new Random(seed);
        for (var i = 0; i < _matrix.Length; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            _matrix[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * random.NextDouble()));
        }

        // Modified Gram-Schmidt, twice so that float rounding leaves the rows orthonormal.
        for (var pass = 0; pass < 2; pass++)
        {
            for (var k = 0; k < d; k++)
            {
                var row = _matrix.AsSpan(k * d, d);
                TensorPrimitives.Divide(row, TensorPrimitives.Norm(row), row);
                var done = k;
                Parallel.For(k + 1, d, j =>
                {
                    var unit = _matrix.AsSpan(done * d, d);
                    var target = _matrix.AsSpan(j * d, d);
                    TensorPrimitives.MultiplyAdd(unit, -TensorPrimitives.Dot(target, unit), target, target);
                });
            }
        }
    }

    /// <summary>Replaces <paramref name="vector"/> by its rotation, using <paramref name="scratch"/> (same length) as workspace.</summary>
    public void Apply(Span<float> vector, Span<float> scratch)
    {
        vector.CopyTo(scratch);
        for (var i = 0; i < _dimensions; i++)
        {
            vector[i] = TensorPrimitives.Dot(_matrix.AsSpan(i * _dimensions, _dimensions), scratch);
        }
    }
}
