using System.Buffers.Binary;
using System.Text;
using Mrl.Bench;
using Mrl.Cli.Bench;

namespace Mrl.Cli.Tests;

public sealed class VectorFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mrl-files-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Texmex(int dimensions, params float[][] rows)
    {
        var bytes = new List<byte>();
        foreach (var row in rows)
        {
            bytes.AddRange(BitConverter.GetBytes(dimensions));
            foreach (var value in row)
            {
                bytes.AddRange(BitConverter.GetBytes(value));
            }
        }

        return [.. bytes];
    }

    private static byte[] Npy(string header, byte[] data, byte major = 1)
    {
        // The header is padded with spaces and a newline so that the data starts on a 64-byte boundary, as numpy writes it.
        var prefix = major == 1 ? 10 : 12;
        var text = header + " ";
        while ((prefix + text.Length + 1) % 64 != 0)
        {
            text += " ";
        }

        text += "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0 };
        var length = new byte[major == 1 ? 2 : 4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)text.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)text.Length);
        }

        bytes.AddRange(length);
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        bytes.AddRange(data);
        return [.. bytes];
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void Fvecs_reads_every_row_in_order()
    {
        var path = Write("base.fvecs", Texmex(3, [1, 2, 3], [4, 5, 6]));

        var matrix = VectorFiles.ReadVectors(path);

        Assert.Equal(2, matrix.Rows);
        Assert.Equal(3, matrix.Dimensions);
        Assert.Equal(new float[] { 4, 5, 6 }, matrix.RowSpan(1).ToArray());
    }

    [Fact]
    public void Fvecs_reads_only_the_rows_asked_for()
    {
        var path = Write("base.fvecs", Texmex(2, [1, 2], [3, 4], [5, 6]));

        Assert.Equal(2, VectorFiles.ReadVectors(path, maxRows: 2).Rows);
    }

    [Fact]
    public void Ivecs_reads_neighbour_ids()
    {
        var bytes = new List<byte>();
        foreach (var row in new[] { new[] { 7, 3 }, new[] { 0, 1 } })
        {
            bytes.AddRange(BitConverter.GetBytes(2));
            bytes.AddRange(row.SelectMany(BitConverter.GetBytes));
        }

        var matrix = VectorFiles.ReadNeighbors(Write("truth.ivecs", [.. bytes]));

        Assert.Equal(new[] { 7, 3 }, matrix.RowSpan(0).ToArray());
        Assert.Equal(new[] { 0, 1 }, matrix.RowSpan(1).ToArray());
    }

    [Fact]
    public void Empty_fvecs_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadVectors(Write("empty.fvecs", [])));
        Assert.Contains("the file is empty", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_fvecs_is_refused_with_the_record_size()
    {
        var bytes = Texmex(4, [1, 2, 3, 4], [5, 6, 7, 8]);
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadVectors(Write("cut.fvecs", bytes[..^3])));
        Assert.Contains("is not a whole number of 4-dimension records of 20 bytes each", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fvecs_with_records_of_different_lengths_names_the_record()
    {
        // 4 + 2 x 4 = 12 bytes, then a record that says 1 dimension but is padded to the same size.
        var bytes = Texmex(2, [1, 2]).Concat(BitConverter.GetBytes(1)).Concat(Floats(3, 4)).ToArray();
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadVectors(Write("mixed.fvecs", bytes)));
        Assert.Contains("record 1 says it has 1 dimensions; the first record has 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fvecs_with_an_absurd_dimension_count_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadVectors(Write("junk.fvecs", BitConverter.GetBytes(-5).Concat(Floats(1)).ToArray())));
        Assert.Contains("the first record says it has -5 dimensions", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npy_float32_matrix_is_read_in_c_order()
    {
        var path = Write("base.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(1, 2, 3, 4, 5, 6)));

        var matrix = VectorFiles.ReadVectors(path);

        Assert.Equal((2, 3), (matrix.Rows, matrix.Dimensions));
        Assert.Equal(new float[] { 4, 5, 6 }, matrix.RowSpan(1).ToArray());
    }

    [Fact]
    public void Npy_version_2_header_is_read()
    {
        var path = Write("v2.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", Floats(7, 8), major: 2));
        Assert.Equal(new float[] { 7, 8 }, VectorFiles.ReadVectors(path).RowSpan(0).ToArray());
    }

    [Fact]
    public void Npy_int64_neighbours_are_narrowed_to_int32()
    {
        var data = new long[] { 5, 9, 2, 0 }.SelectMany(BitConverter.GetBytes).ToArray();
        var path = Write("truth.npy", Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", data));

        var matrix = VectorFiles.ReadNeighbors(path);

        Assert.Equal(new[] { 5, 9, 2, 0 }, matrix.Values);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", "dtype is '<f8'; vectors must be little-endian float32")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", "Fortran (column-major) order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", "expected 2 dimensions")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", "expected 2 dimensions")]
    [InlineData("{'descr': '<f4', 'shape': (1, 2), }", "not a dict with 'descr', 'fortran_order' and 'shape'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (5, 2), }", "the file is truncated")]
    public void Malformed_npy_is_refused_with_the_reason(string header, string reason)
    {
        var path = Write("bad.npy", Npy(header, Floats(1, 2, 3, 4)));
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadVectors(path));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_the_npy_magic_is_refused()
    {
        var error = Assert.Throws<InvalidDataException>(() => VectorFiles.ReadVectors(Write("fake.npy", Encoding.ASCII.GetBytes("PK\u0003\u0004 not numpy"))));
        Assert.Contains("not a .npy file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_extension_is_refused_before_reading()
    {
        var error = Assert.Throws<ArgumentException>(() => VectorFiles.ReadVectors(Write("base.csv", [1, 2, 3])));
        Assert.Contains(".fvecs or .npy", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_says_so()
    {
        Assert.Throws<FileNotFoundException>(() => VectorFiles.ReadVectors(Path.Combine(_directory, "missing.fvecs")));
    }

    [Fact]
    public void Ivecs_written_for_the_truth_cache_read_back_equal()
    {
        var path = Path.Combine(_directory, "cache.ivecs");
        TexmexFormat.WriteIvecs(path, new VectorMatrix<int>([1, 2, 3, 4, 5, 6], 3, 2));

        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6 }, TexmexFormat.ReadIvecs(path).Values);
    }
}
