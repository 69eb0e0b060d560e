using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Mrl.Bench;

/// <summary>
/// The TEXMEX formats of the ANN benchmarks (SIFT, GIST, ...): <c>.fvecs</c> (float32) and <c>.ivecs</c> (int32). Each record
/// is a little-endian int32 <c>d</c> followed by <c>d</c> 4-byte values; every record of a file has the same <c>d</c>.
/// </summary>
internal static class TexmexFormat
{
    private const int MaxDimensions = 1_000_000;

    public static VectorMatrix<float> ReadFvecs(string path, int? maxRows = null) => Read<float>(path, maxRows);

    public static VectorMatrix<int> ReadIvecs(string path, int? maxRows = null) => Read<int>(path, maxRows);

    /// <summary>Writes rows of ids as <c>.ivecs</c>.</summary>
    public static void WriteIvecs(string path, VectorMatrix<int> rows)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> header = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, rows.Dimensions);
        for (var row = 0; row < rows.Rows; row++)
        {
            stream.Write(header);
            stream.Write(MemoryMarshal.AsBytes(rows.RowSpan(row)));
        }
    }

    private static VectorMatrix<T> Read<T>(string path, int? maxRows) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Reading TEXMEX files needs a little-endian machine.");
        }

        var extension = Path.GetExtension(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var length = stream.Length;
        if (length == 0)
        {
            throw new InvalidDataException($"{path}: the file is empty.");
        }

        Span<byte> header = stackalloc byte[4];
        if (stream.ReadAtLeast(header, 4, throwOnEndOfStream: false) < 4)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {length} bytes is too short for a {extension} record, which starts with a 4-byte dimension count."));
        }

        var dimensions = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (dimensions is < 1 or > MaxDimensions)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: the first record says it has {dimensions} dimensions; expected 1 to {MaxDimensions}. Is this really a {extension} file?"));
        }

        var recordBytes = 4 + (4L * dimensions);
        if (length % recordBytes != 0)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {length} bytes is not a whole number of {dimensions}-dimension records of {recordBytes} bytes each ({length / recordBytes} records and {length % recordBytes} bytes left over): the file is truncated, or its records differ in length."));
        }

        var rows = length / recordBytes;
        if (maxRows is { } limit)
        {
            rows = Math.Min(rows, limit);
        }

        if (rows * dimensions > Array.MaxLength)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {rows} x {dimensions} values do not fit in one array ({Array.MaxLength} at most); read fewer rows."));
        }

        var values = GC.AllocateUninitializedArray<T>((int)(rows * dimensions));
        stream.Position = 0;
        for (var row = 0; row < rows; row++)
        {
            stream.ReadExactly(header);
            var recordDimensions = BinaryPrimitives.ReadInt32LittleEndian(header);
            if (recordDimensions != dimensions)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{path}: record {row} says it has {recordDimensions} dimensions; the first record has {dimensions}."));
            }

            stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan(row * dimensions, dimensions)));
        }

        return new VectorMatrix<T>(values, (int)rows, dimensions);
    }
}
