using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Mrl.Adapters;
using Mrl.Bench.Synthetic;

namespace Mrl.Bench;

/// <summary>What a benchmark searches: base vectors, queries, the metric, and the true neighbours when a file gives them.</summary>
internal sealed class BenchDataset
{
    private string? _identity;

    public BenchDataset(string description, VectorMatrix<float> baseVectors, VectorMatrix<float> queries, DistanceMetric metric, VectorMatrix<int>? givenTruth)
    {
        if (baseVectors.Dimensions != queries.Dimensions)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The base vectors have {baseVectors.Dimensions} dimensions and the queries {queries.Dimensions}."));
        }

        if (baseVectors.Rows == 0 || queries.Rows == 0)
        {
            throw new ArgumentException("The data set needs at least one base vector and one query.");
        }

        if ((long)baseVectors.Rows * baseVectors.Dimensions > Array.MaxLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{baseVectors.Rows} x {baseVectors.Dimensions} values do not fit in memory as one array; use fewer vectors."));
        }

        Description = description;
        Base = baseVectors;
        Queries = queries;
        Metric = metric;
        GivenTruth = givenTruth;
    }

    public string Description { get; }

    public VectorMatrix<float> Base { get; }

    public VectorMatrix<float> Queries { get; }

    public DistanceMetric Metric { get; }

    /// <summary>True neighbours from a file, or null when they must be computed.</summary>
    public VectorMatrix<int>? GivenTruth { get; }

    public int Count => Base.Rows;

    public int Dimensions => Base.Dimensions;

    /// <summary>
    /// Writes every base vector into <paramref name="store"/>, keyed by its row, in batches of <paramref name="batchSize"/>;
    /// <paramref name="loaded"/> hears how many rows are in after each batch.
    /// </summary>
    public async Task LoadIntoAsync(IAdaptiveStore<long> store, int batchSize, Action<int> loaded, CancellationToken cancellationToken)
    {
        for (var start = 0; start < Count; start += batchSize)
        {
            var end = Math.Min(Count, start + batchSize);
            var batch = new VectorRecord<long>[end - start];
            for (var i = start; i < end; i++)
            {
                batch[i - start] = new VectorRecord<long>(i, Base.Row(i));
            }

            await store.UpsertAsync(batch, cancellationToken);
            loaded(end);
        }
    }

    /// <summary>SHA-256 of the base vectors and the queries (their shapes and bytes): what cached ground truth and table names are keyed by.</summary>
    public string Identity => _identity ??= ComputeIdentity();

    public static BenchDataset Synthetic(SyntheticCorpusOptions options, int count, int queries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1);
        if ((long)count * options.Dimensions > Array.MaxLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{count} x {options.Dimensions} values do not fit in memory as one array; use fewer vectors."));
        }

        var corpus = new SyntheticCorpus(options);
        var d = options.Dimensions;
        var description = string.Create(CultureInfo.InvariantCulture,
            $"synthetic {(options.Spectrum == SyntheticSpectrum.Flat ? "flat-spectrum" : "MRL-like")}{(options.Rotated ? ", rotated" : "")}: {count:N0} x {d}, {queries:N0} queries, difficulty {options.Difficulty}, {options.Clusters} clusters, seed {options.Seed}");
        return new BenchDataset(description,
            new VectorMatrix<float>(corpus.Generate(count, stream: 0), count, d),
            new VectorMatrix<float>(corpus.Generate(queries, stream: 1), queries, d),
            DistanceMetric.Cosine,
            givenTruth: null);
    }

    /// <summary>
    /// Splits rows into base vectors and <paramref name="queries"/> queries chosen at random (by the seed) and held out of the
    /// base, so that no query finds itself; <paramref name="describe"/> gets the base count, the dimensions and the queries.
    /// </summary>
    public static BenchDataset HoldOut(IReadOnlyList<ReadOnlyMemory<float>> rows, int queries, int seed, DistanceMetric metric, Func<int, int, int, string> describe)
    {
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        var isQuery = new bool[rows.Count];
        foreach (var row in order.AsSpan(0, queries))
        {
            isQuery[row] = true;
        }

        var d = rows[0].Length;
        var queryValues = new float[queries * d];
        var baseValues = new float[(rows.Count - queries) * d];
        int q = 0, b = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].Span.CopyTo(isQuery[i] ? queryValues.AsSpan(q++ * d, d) : baseValues.AsSpan(b++ * d, d));
        }

        return new BenchDataset(describe(b, d, q), new VectorMatrix<float>(baseValues, b, d), new VectorMatrix<float>(queryValues, q, d), metric, givenTruth: null);
    }

    public static BenchDataset FromFiles(string basePath, string queriesPath, string? truthPath, int? maxBase, int? maxQueries, DistanceMetric metric)
    {
        var baseVectors = VectorFiles.ReadVectors(basePath, maxBase);
        var queries = VectorFiles.ReadVectors(queriesPath, maxQueries);
        VectorMatrix<int>? truth = null;
        if (truthPath is not null)
        {
            truth = VectorFiles.ReadNeighbors(truthPath, queries.Rows);
            if (truth.Rows < queries.Rows)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                    $"{truthPath}: {truth.Rows} rows of neighbours for {queries.Rows} queries; there must be one row per query."));
            }

            var wholeBase = maxBase is null || baseVectors.Rows < maxBase;
            if (!wholeBase)
            {
                throw new ArgumentException($"{truthPath} gives neighbours in the whole of {basePath}; with --count reading only part of it, leave out --truth and the ground truth is computed.");
            }

            for (var i = 0; i < truth.Values.Length && i < (long)truth.Rows * truth.Dimensions; i++)
            {
                if ((uint)truth.Values[i] >= (uint)baseVectors.Rows)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                        $"{truthPath}: row {i / truth.Dimensions} names base vector {truth.Values[i]}, but {basePath} has {baseVectors.Rows} (ids are 0-based)."));
                }
            }
        }

        var description = string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(basePath)}: {baseVectors.Rows:N0} x {baseVectors.Dimensions}, {queries.Rows:N0} queries from {Path.GetFileName(queriesPath)}, {metric}");
        return new BenchDataset(description, baseVectors, queries, metric, truth);
    }

    /// <summary>Whether every base vector and query has unit length, so that cosine ranks like the cheaper dot product.</summary>
    public bool IsNormalized()
    {
        return AllUnit(Base) && AllUnit(Queries);

        static bool AllUnit(VectorMatrix<float> matrix)
        {
            for (var row = 0; row < matrix.Rows; row++)
            {
                if (Math.Abs(TensorPrimitives.Norm(matrix.RowSpan(row)) - 1f) > 1e-3f)
                {
                    return false;
                }
            }

            return true;
        }
    }

    private string ComputeIdentity()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<int> shape = [Base.Rows, Queries.Rows, Dimensions];
        hash.AppendData(MemoryMarshal.AsBytes(shape));
        ByteChunks.Append<float>(hash, Base.Values.AsSpan(0, Base.Rows * Dimensions));
        ByteChunks.Append<float>(hash, Queries.Values.AsSpan(0, Queries.Rows * Dimensions));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
