using System.Globalization;
using System.Numerics.Tensors;

namespace Mrl.Adapters;

/// <summary>Vector arithmetic on spans, built on <see cref="TensorPrimitives"/>.</summary>
public static class VectorMath
{
    /// <summary>Scores two vectors of equal length; higher is better for every metric.</summary>
    /// <remarks>Cosine assumes nothing about lengths and divides by both norms; use <see cref="DistanceMetric.DotProduct"/> on unit vectors to skip that.</remarks>
    public static float Score(DistanceMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b) => metric switch
    {
        DistanceMetric.Cosine => TensorPrimitives.CosineSimilarity(a, b),
        DistanceMetric.DotProduct => TensorPrimitives.Dot(a, b),
        DistanceMetric.Euclidean => -TensorPrimitives.Distance(a, b),
        DistanceMetric.Manhattan => -ManhattanDistance(a, b),
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric."),
    };

    /// <summary>The Manhattan (L1) distance of two vectors of equal length: the sum of the magnitudes of their differences.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static float ManhattanDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected vectors of equal length, got {a.Length} and {b.Length}."), nameof(b));
        }

        // TensorPrimitives has no L1 distance: the differences go through a stack buffer a chunk at a time, so nothing is allocated.
        Span<float> difference = stackalloc float[Math.Min(a.Length, ManhattanChunk)];
        var sum = 0f;
        for (var start = 0; start < a.Length; start += ManhattanChunk)
        {
            var length = Math.Min(ManhattanChunk, a.Length - start);
            var chunk = difference[..length];
            TensorPrimitives.Subtract(a.Slice(start, length), b.Slice(start, length), chunk);
            sum += TensorPrimitives.SumOfMagnitudes(chunk);
        }

        return sum;
    }

    private const int ManhattanChunk = 256;

    /// <summary>Writes <paramref name="source"/> scaled to unit length into <paramref name="destination"/>; false when its norm is zero or not finite.</summary>
    public static bool TryNormalize(ReadOnlySpan<float> source, Span<float> destination)
    {
        var norm = TensorPrimitives.Norm(source);
        if (!(norm > 0f) || !float.IsFinite(norm))
        {
            return false;
        }

        TensorPrimitives.Divide(source, norm, destination);
        return true;
    }

    /// <summary>Scales <paramref name="vector"/> to unit length in place; false (and unchanged) when its norm is zero or not finite.</summary>
    public static bool TryNormalize(Span<float> vector) => TryNormalize(vector, vector);

    /// <summary>
    /// Describes what is wrong with a vector for a layout of <paramref name="dimensions"/> values with a prefix of
    /// <paramref name="prefixDimensions"/> (the wrong length, NaN or infinite values, and with <paramref name="rejectZero"/>
    /// a zero vector), or returns null when it can be stored and scored. Stores use it to refuse a record before writing.
    /// </summary>
    public static string? FindProblem(ReadOnlySpan<float> vector, int dimensions, int prefixDimensions, bool rejectZero)
    {
        if (vector.Length != dimensions)
        {
            return string.Create(CultureInfo.InvariantCulture, $"expected {dimensions} dimensions, got {vector.Length}.");
        }

        // One pass: the sum of squares is NaN or infinite when any value is, and the loop below runs only then.
        var sumOfSquares = TensorPrimitives.SumOfSquares(vector);
        if (!float.IsFinite(sumOfSquares))
        {
            for (var i = 0; i < vector.Length; i++)
            {
                if (float.IsNaN(vector[i]))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"value {i} is NaN.");
                }

                if (float.IsInfinity(vector[i]))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"value {i} is {(vector[i] > 0 ? "+" : "-")}Infinity.");
                }
            }

            return "its values are too large: the squared norm overflows single precision.";
        }

        if (rejectZero)
        {
            if (sumOfSquares == 0f && TensorPrimitives.MaxMagnitude(vector) == 0f)
            {
                return "it is a zero vector, which has no direction for cosine or dot-product scoring.";
            }

            var prefix = vector[..prefixDimensions];
            if (TensorPrimitives.MaxMagnitude(prefix) == 0f)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"its first {prefixDimensions} values are all zero, so its prefix cannot be normalized.");
            }

            if (!(TensorPrimitives.Norm(prefix) > 0f))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"its first {prefixDimensions} values are too small to normalize in single precision.");
            }
        }

        return null;
    }
}
