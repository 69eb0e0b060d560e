using Mrl.Adapters;

namespace Mrl.Bench.Synthetic;

/// <summary>
/// Generates MRL-like embeddings: clustered, seedable, with information front-loaded along the index.
/// </summary>
/// <remarks>
/// The model: <c>Clusters</c> centres <c>c</c> have values <c>c[i] = N(0,1) · s(i)</c> with the per-dimension scale
/// <c>s(i) = exp(-i / DecayLength) + Floor</c>. A point is a random centre plus noise <c>Difficulty · N(0,1) · s(i)</c>,
/// scaled to unit length. Because the scale decays with <c>i</c>, the leading dimensions carry most of the variance,
/// as in a model trained with a Matryoshka loss: a short prefix ranks neighbours roughly, the full vector exactly.
/// Rows are generated in blocks with their own seeded generator, so the output does not depend on the thread count.
/// With <see cref="SyntheticCorpusOptions.Spectrum"/> <see cref="SyntheticSpectrum.Flat"/> every scale is 1; with
/// <see cref="SyntheticCorpusOptions.Rotated"/> every vector is multiplied by one fixed random orthogonal matrix, which
/// keeps every distance and spreads the information over all dimensions (data from a model without a Matryoshka loss).
/// </remarks>
public sealed class SyntheticCorpus
{
    private const int RowsPerBlock = 1_024;
    private readonly float[] _scale;
    private readonly float[] _centres;
    private readonly RandomRotation? _rotation;

    /// <summary>Creates the centres for <paramref name="options"/>.</summary>
    public SyntheticCorpus(SyntheticCorpusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        var d = options.Dimensions;
        var decay = options.DecayLength ?? d / 5.0;
        _scale = new float[d];
        for (var i = 0; i < d; i++)
        {
            _scale[i] = options.Spectrum == SyntheticSpectrum.Flat ? 1f : (float)(Math.Exp(-i / decay) + options.Floor);
        }

        _centres = new float[options.Clusters * d];
        var random = new Random(options.Seed);
        for (var c = 0; c < options.Clusters; c++)
        {
            for (var i = 0; i < d; i++)
            {
                _centres[(c * d) + i] = (float)(Gaussian(random) * _scale[i]);
            }
        }

        _rotation = options.Rotated ? new RandomRotation(d, unchecked(options.Seed + 0x5eed)) : null;
    }

    /// <summary>The parameters this corpus was made with.</summary>
    public SyntheticCorpusOptions Options { get; }

    /// <summary>
    /// Generates <paramref name="count"/> vectors, row-major. Different <paramref name="stream"/> values give independent
    /// points around the same centres: use one stream for the corpus and another for the queries.
    /// </summary>
    public float[] Generate(int count, int stream = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var d = Options.Dimensions;
        var data = new float[(long)count * d];
        var blocks = (count + RowsPerBlock - 1) / RowsPerBlock;
        Parallel.For(0, blocks, block =>
        {
            var random = new Random(BlockSeed(Options.Seed, stream, block));
            var scratch = new float[_rotation is null ? 0 : d];
            var end = Math.Min(count, (block + 1) * RowsPerBlock);
            for (var row = block * RowsPerBlock; row < end; row++)
            {
                var vector = data.AsSpan(row * d, d);
                var centre = _centres.AsSpan(random.Next(Options.Clusters) * d, d);
                for (var i = 0; i < d; i++)
                {
                    vector[i] = centre[i] + (float)(Options.Difficulty * Gaussian(random) * _scale[i]);
                }

                if (Options.Normalize)
                {
                    VectorMath.TryNormalize(vector);
                }

                _rotation?.Apply(vector, scratch);
            }
        });
        return data;
    }

    // HashCode is randomized per process, so the block seeds come from a fixed mix (SplitMix64's finalizer) instead.
    private static int BlockSeed(int seed, int stream, int block)
    {
        var z = unchecked(((ulong)(uint)seed << 32) ^ ((ulong)(uint)stream << 20) ^ (uint)block);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)(z ^ (z >> 31));
    }

    // Box-Muller; one of the pair is dropped, which keeps the generator stateless.
    private static double Gaussian(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
