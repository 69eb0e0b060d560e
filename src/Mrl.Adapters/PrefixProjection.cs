using System.Globalization;
using System.Numerics.Tensors;

namespace Mrl.Adapters;

/// <summary>
/// A <c>p × D</c> matrix with orthonormal rows that maps a full vector to its pass-1 key (<c>P·x</c>), with a version so
/// that every client of a store can tell whether it holds the projection the stored keys were made with.
/// </summary>
/// <remarks>Immutable. Two projections are equal when their version, shape and values are.</remarks>
public sealed class PrefixProjection : IEquatable<PrefixProjection>
{
    /// <summary>How far a row's norm or two rows' inner product may be from 1 or 0 before the rows are refused as not orthonormal.</summary>
    public const float OrthonormalTolerance = 1e-3f;

    private readonly float[] _matrix;

    /// <summary>Creates a projection from <paramref name="matrix"/>, row-major, and checks that its rows are orthonormal.</summary>
    /// <param name="rows">The key dimensions (p).</param>
    /// <param name="columns">The full dimensions (D).</param>
    /// <param name="matrix"><c>rows × columns</c> values, row-major; copied.</param>
    /// <param name="version">A positive number that changes whenever the projection is refitted.</param>
    /// <exception cref="ArgumentException">The shape does not match the values, or the rows are not orthonormal.</exception>
    public PrefixProjection(int rows, int columns, ReadOnlySpan<float> matrix, int version = 1)
    {
        if (columns < 1 || columns > EmbeddingLayout.MaxDimensions)
        {
            throw new ArgumentOutOfRangeException(nameof(columns), columns,
                string.Create(CultureInfo.InvariantCulture, $"A projection maps vectors of 1 to {EmbeddingLayout.MaxDimensions} dimensions, got {columns}."));
        }

        if (rows < 1 || rows > columns)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows,
                string.Create(CultureInfo.InvariantCulture, $"A projection has between 1 and {columns} rows (its full dimensions), got {rows}."));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        if (matrix.Length != rows * columns)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"A {rows} × {columns} projection needs {rows * columns} values, got {matrix.Length}."), nameof(matrix));
        }

        _matrix = matrix.ToArray();
        Rows = rows;
        Columns = columns;
        Version = version;
        var problem = FindOrthonormalityProblem(_matrix, rows, columns);
        if (problem is not null)
        {
            throw new ArgumentException($"The projection rows are not orthonormal: {problem}", nameof(matrix));
        }
    }

    /// <summary>The key dimensions (p).</summary>
    public int Rows { get; }

    /// <summary>The full dimensions (D).</summary>
    public int Columns { get; }

    /// <summary>The version of this fit: a refit gets a new one, and the stored keys say which one made them.</summary>
    public int Version { get; }

    /// <summary>The matrix, row-major: row <c>i</c> is direction <c>i</c> of the key.</summary>
    public ReadOnlySpan<float> Matrix => _matrix;

    /// <summary>Direction <paramref name="index"/> (a unit vector of <see cref="Columns"/> values).</summary>
    public ReadOnlySpan<float> Row(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Rows);
        return _matrix.AsSpan(index * Columns, Columns);
    }

    /// <summary>Writes <c>P·x</c>, not normalized, into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">A span has the wrong length.</exception>
    public void Project(ReadOnlySpan<float> vector, Span<float> destination)
    {
        if (vector.Length != Columns)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected a vector of {Columns} dimensions, got {vector.Length}."), nameof(vector));
        }

        if (destination.Length != Rows)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The destination must hold {Rows} values, got {destination.Length}."), nameof(destination));
        }

        for (var i = 0; i < Rows; i++)
        {
            destination[i] = TensorPrimitives.Dot(_matrix.AsSpan(i * Columns, Columns), vector);
        }
    }

    /// <inheritdoc />
    public bool Equals(PrefixProjection? other) =>
        other is not null && (ReferenceEquals(this, other)
            || (Version == other.Version && Rows == other.Rows && Columns == other.Columns && _matrix.AsSpan().SequenceEqual(other._matrix)));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as PrefixProjection);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Version, Rows, Columns, _matrix[0], _matrix[^1]);

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"projection v{Version} {Rows}×{Columns}");

    internal static string? FindOrthonormalityProblem(ReadOnlySpan<float> matrix, int rows, int columns)
    {
        for (var i = 0; i < rows; i++)
        {
            var row = matrix.Slice(i * columns, columns);
            if (!float.IsFinite(TensorPrimitives.SumOfSquares(row)))
            {
                return string.Create(CultureInfo.InvariantCulture, $"row {i} holds a NaN or infinite value.");
            }

            for (var j = 0; j <= i; j++)
            {
                var dot = TensorPrimitives.Dot(row, matrix.Slice(j * columns, columns));
                var expected = i == j ? 1f : 0f;
                if (Math.Abs(dot - expected) > OrthonormalTolerance)
                {
                    return i == j
                        ? string.Create(CultureInfo.InvariantCulture, $"row {i} has squared norm {dot}, expected 1.")
                        : string.Create(CultureInfo.InvariantCulture, $"rows {j} and {i} have inner product {dot}, expected 0.");
                }
            }
        }

        return null;
    }
}
