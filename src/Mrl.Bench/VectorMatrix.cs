namespace Mrl.Bench;

/// <summary>Rows of equal length, back to back in one array: base vectors, queries, or neighbour ids.</summary>
/// <typeparam name="T">float for vectors, int for neighbour ids.</typeparam>
internal sealed class VectorMatrix<T> where T : unmanaged
{
    public VectorMatrix(T[] values, int rows, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)rows * dimensions, values.LongLength);
        Values = values;
        Rows = rows;
        Dimensions = dimensions;
    }

    public T[] Values { get; }

    public int Rows { get; }

    public int Dimensions { get; }

    public ReadOnlyMemory<T> Row(int row) => Values.AsMemory(row * Dimensions, Dimensions);

    public ReadOnlySpan<T> RowSpan(int row) => Values.AsSpan(row * Dimensions, Dimensions);

    /// <summary>The first <paramref name="rows"/> rows, sharing this matrix's array.</summary>
    public VectorMatrix<T> Take(int rows) => rows >= Rows ? this : new VectorMatrix<T>(Values, rows, Dimensions);
}
