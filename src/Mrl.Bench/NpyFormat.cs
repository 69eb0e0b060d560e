using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Mrl.Bench;

/// <summary>
/// NumPy's <c>.npy</c> format, versions 1 to 3: the magic <c>\x93NUMPY</c>, a version, a header length, a header that is a
/// Python dict literal (<c>descr</c>, <c>fortran_order</c>, <c>shape</c>), then the array's bytes. Reads 2-D C-order arrays:
/// little-endian float32 for vectors, int32 or int64 for neighbour ids.
/// </summary>
internal static partial class NpyFormat
{
    // 0x93 then "NUMPY": a u8 literal would encode U+0093 as two bytes.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static VectorMatrix<float> ReadFloat32(string path, int? maxRows = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var header = ReadHeader(stream, path);
        if (header.Descr != "<f4")
        {
            throw new InvalidDataException(
                $"{path}: the array's dtype is '{header.Descr}'; vectors must be little-endian float32 ('<f4'). Convert with arr.astype('<f4').");
        }

        var (rows, columns) = Take(header, maxRows);
        var values = GC.AllocateUninitializedArray<float>(rows * columns);
        ReadData(stream, path, header, values.AsSpan());
        return new VectorMatrix<float>(values, rows, columns);
    }

    public static VectorMatrix<int> ReadInt32(string path, int? maxRows = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var header = ReadHeader(stream, path);
        var (rows, columns) = Take(header, maxRows);
        var values = GC.AllocateUninitializedArray<int>(rows * columns);
        if (header.Descr == "<i4")
        {
            ReadData(stream, path, header, values.AsSpan());
        }
        else if (header.Descr == "<i8")
        {
            var wide = GC.AllocateUninitializedArray<long>(rows * columns);
            ReadData(stream, path, header, wide.AsSpan());
            for (var i = 0; i < wide.Length; i++)
            {
                values[i] = wide[i] is >= int.MinValue and <= int.MaxValue
                    ? (int)wide[i]
                    : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: value {wide[i]} at row {i / columns} does not fit in an int32 row id."));
            }
        }
        else
        {
            throw new InvalidDataException($"{path}: the array's dtype is '{header.Descr}'; neighbour ids must be little-endian int32 ('<i4') or int64 ('<i8').");
        }

        return new VectorMatrix<int>(values, rows, columns);
    }

    private static (int Rows, int Columns) Take(Header header, int? maxRows)
    {
        var rows = maxRows is { } limit ? Math.Min(header.Rows, limit) : header.Rows;
        return ((int)rows, header.Columns);
    }

    private static void ReadData<T>(FileStream stream, string path, Header header, Span<T> destination)
        where T : unmanaged
    {
        var available = stream.Length - header.DataOffset;
        var whole = header.Rows * header.Columns * header.ItemSize;
        if (available < whole)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: the header promises {header.Rows} x {header.Columns} values ({whole} bytes) but only {available} bytes follow it: the file is truncated."));
        }

        stream.Position = header.DataOffset;
        ByteChunks.ReadExactly(stream, destination);
    }

    private static Header ReadHeader(FileStream stream, string path)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Reading .npy files needs a little-endian machine.");
        }

        Span<byte> prefix = stackalloc byte[12];
        var read = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (read < 10 || !prefix[..6].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not a .npy file (it does not start with the \\x93NUMPY magic).");
        }

        var major = prefix[6];
        int headerLength, dataStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..10]);
                dataStart = 10;
                break;
            case 2 or 3 when read >= 12:
                var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..12]);
                headerLength = length <= 1 << 20
                    ? (int)length
                    : throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: a header of {length} bytes is not plausible."));
                dataStart = 12;
                break;
            default:
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{path}: .npy format version {major}.{prefix[7]} is not supported (1.0 to 3.0 are)."));
        }

        if (stream.Length < dataStart + headerLength)
        {
            throw new InvalidDataException($"{path}: the file ends inside its header: it is truncated.");
        }

        var bytes = new byte[headerLength];
        stream.Position = dataStart;
        stream.ReadExactly(bytes);
        var text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(bytes);

        var descr = DescrPattern().Match(text);
        var fortran = FortranPattern().Match(text);
        var shape = ShapePattern().Match(text);
        if (!descr.Success || !fortran.Success || !shape.Success)
        {
            throw new InvalidDataException($"{path}: the header is not a dict with 'descr', 'fortran_order' and 'shape': {text.Trim()}");
        }

        if (fortran.Groups[1].Value == "True")
        {
            throw new InvalidDataException($"{path}: the array is in Fortran (column-major) order; save it in C order, e.g. np.save(path, np.ascontiguousarray(arr)).");
        }

        var dimensions = shape.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (dimensions.Length != 2)
        {
            throw new InvalidDataException($"{path}: the array has shape ({shape.Groups[1].Value}); expected 2 dimensions (rows, columns).");
        }

        if (!long.TryParse(dimensions[0], NumberStyles.None, CultureInfo.InvariantCulture, out var rows)
            || !int.TryParse(dimensions[1], NumberStyles.None, CultureInfo.InvariantCulture, out var columns) || columns < 1)
        {
            throw new InvalidDataException($"{path}: the shape ({shape.Groups[1].Value}) is not two non-negative integers with at least one column.");
        }

        if (rows * columns > Array.MaxLength)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{path}: {rows} x {columns} values do not fit in one array ({Array.MaxLength} at most)."));
        }

        var descrValue = descr.Groups[1].Value;
        var itemSize = descrValue.Length == 3 && char.IsAsciiDigit(descrValue[2]) ? descrValue[2] - '0' : 0;
        return new Header(descrValue, rows, columns, itemSize, dataStart + headerLength);
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    private sealed record Header(string Descr, long Rows, int Columns, int ItemSize, long DataOffset);
}
