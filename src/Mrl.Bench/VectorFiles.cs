namespace Mrl.Bench;

/// <summary>Reads vectors and neighbour ids from the file formats ANN benchmarks use, chosen by extension.</summary>
internal static class VectorFiles
{
    public static VectorMatrix<float> ReadVectors(string path, int? maxRows = null)
    {
        RequireFile(path);
        return Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".FVECS" => TexmexFormat.ReadFvecs(path, maxRows),
            ".NPY" => NpyFormat.ReadFloat32(path, maxRows),
            var other => throw new ArgumentException($"{path}: vectors must be in .fvecs or .npy (float32, 2-D) files, not '{other}'."),
        };
    }

    public static VectorMatrix<int> ReadNeighbors(string path, int? maxRows = null)
    {
        RequireFile(path);
        return Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".IVECS" => TexmexFormat.ReadIvecs(path, maxRows),
            ".NPY" => NpyFormat.ReadInt32(path, maxRows),
            var other => throw new ArgumentException($"{path}: neighbour ids must be in .ivecs or .npy (int32 or int64, 2-D) files, not '{other}'."),
        };
    }

    private static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file.", path);
        }
    }
}
