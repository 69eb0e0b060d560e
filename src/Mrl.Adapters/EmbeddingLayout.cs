using System.Globalization;

namespace Mrl.Adapters;

/// <summary>
/// The shape of a Matryoshka embedding as the stores hold it: <see cref="FullDimensions"/> values, and a pass-1 key of
/// <see cref="PrefixDimensions"/> values indexed for pass 1: the first values of the vector (<see cref="PrefixKind.Truncate"/>),
/// or a learned projection of it (<see cref="PrefixKind.Projection"/>).
/// </summary>
public sealed record EmbeddingLayout
{
    /// <summary>The largest number of dimensions any layout accepts (pgvector's own limit for <c>vector</c>).</summary>
    public const int MaxDimensions = 16_000;

    /// <summary>
    /// Full vectors shorter than this are searched in one pass by default (<see cref="DefaultPrefixDimensions"/>): the
    /// smallest prefix Matryoshka models are trained for is 32 to 64 values, so a prefix of a vector under 128 values would
    /// save at most a few hundred bytes per candidate while losing most of the ranking; scanning the full vector costs
    /// about what a prefix would, and is exact.
    /// </summary>
    public const int SinglePassBelow = 128;

    /// <summary>
    /// Creates a layout and checks that <c>1 &lt;= prefixDimensions &lt;= fullDimensions</c>. A prefix as long as the full
    /// vector makes a single-pass layout (<see cref="IsSinglePass"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The dimensions do not describe a prefix of the full vector.</exception>
    public EmbeddingLayout(int fullDimensions, int prefixDimensions, DistanceMetric metric = DistanceMetric.Cosine)
    {
        if (fullDimensions < 1 || fullDimensions > MaxDimensions)
        {
            throw new ArgumentOutOfRangeException(nameof(fullDimensions), fullDimensions,
                string.Create(CultureInfo.InvariantCulture, $"Full dimensions must be between 1 and {MaxDimensions}, got {fullDimensions}."));
        }

        if (prefixDimensions < 1 || prefixDimensions > fullDimensions)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixDimensions), prefixDimensions,
                string.Create(CultureInfo.InvariantCulture,
                    $"Prefix dimensions must be at least 1 and at most the full dimensions ({fullDimensions}), got {prefixDimensions}."));
        }

        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "Unknown distance metric.");
        }

        FullDimensions = fullDimensions;
        PrefixDimensions = prefixDimensions;
        Metric = metric;
    }

    /// <summary>
    /// Creates a layout whose pass-1 key is <c>P·x</c> for the rows of <paramref name="projection"/>, renormalized for
    /// Cosine and DotProduct as a truncated prefix is. The full dimensions are the projection's columns, the prefix
    /// dimensions its rows.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="projection"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The metric is unknown.</exception>
    public EmbeddingLayout(PrefixProjection projection, DistanceMetric metric = DistanceMetric.Cosine)
        : this(projection?.Columns ?? throw new ArgumentNullException(nameof(projection)), projection.Rows, metric)
    {
        Projection = projection;
    }

    /// <summary>How the pass-1 key is made from a full vector.</summary>
    public PrefixKind PrefixKind => Projection is null ? PrefixKind.Truncate : PrefixKind.Projection;

    /// <summary>The projection that makes the pass-1 key, or null when the key is the first values of the vector.</summary>
    public PrefixProjection? Projection { get; }

    /// <summary>The number of values in a full vector (D).</summary>
    public int FullDimensions { get; }

    /// <summary>The number of leading values indexed for pass 1 (p).</summary>
    public int PrefixDimensions { get; }

    /// <summary>How vectors are compared.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>
    /// Whether the prefix is the whole vector: pass 1 already searches the full vectors, and pass 2 only rescores them
    /// under the metric (which changes the order for <see cref="DistanceMetric.DotProduct"/>, whose prefix is normalized).
    /// </summary>
    public bool IsSinglePass => PrefixDimensions == FullDimensions && Projection is null;

    /// <summary>
    /// The prefix length used when none is configured: the whole vector below <see cref="SinglePassBelow"/> dimensions,
    /// otherwise the largest power of two that is at most a quarter of the full vector and at most 256.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fullDimensions"/> is less than 1.</exception>
    public static int DefaultPrefixDimensions(int fullDimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fullDimensions, 1);
        if (fullDimensions < SinglePassBelow)
        {
            return fullDimensions;
        }

        var quarter = Math.Min(256, fullDimensions / 4);
        return 1 << (31 - int.LeadingZeroCount(quarter));
    }

    /// <summary>Whether the prefix is renormalized to unit length (Cosine and DotProduct) or kept as is (Euclidean and Manhattan).</summary>
    public bool NormalizesPrefix => Metric is DistanceMetric.Cosine or DistanceMetric.DotProduct;

    /// <summary>
    /// Writes the pass-1 key of <paramref name="fullVector"/> into <paramref name="destination"/>: its first values, or its
    /// projection, renormalized where the metric needs it. Every store, cache and benchmark computes keys here.
    /// </summary>
    /// <exception cref="ArgumentException">A span has the wrong length, or the key is all zeros for a normalizing metric.</exception>
    public void WritePrefix(ReadOnlySpan<float> fullVector, Span<float> destination)
    {
        if (fullVector.Length != FullDimensions)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"Expected a vector of {FullDimensions} dimensions, got {fullVector.Length}."),
                nameof(fullVector));
        }

        if (destination.Length != PrefixDimensions)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The destination must hold {PrefixDimensions} values, got {destination.Length}."),
                nameof(destination));
        }

        if (Projection is not null)
        {
            Projection.Project(fullVector, destination);
            if (NormalizesPrefix && !VectorMath.TryNormalize(destination))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture,
                        $"The vector's projection on the {PrefixDimensions} key directions is zero: the key cannot be normalized."),
                    nameof(fullVector));
            }

            return;
        }

        var prefix = fullVector[..PrefixDimensions];
        if (NormalizesPrefix)
        {
            if (!VectorMath.TryNormalize(prefix, destination))
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture,
                        $"The first {PrefixDimensions} values of the vector are all zero: the prefix cannot be normalized."),
                    nameof(fullVector));
            }
        }
        else
        {
            prefix.CopyTo(destination);
        }
    }

    /// <summary>Returns the pass-1 key of <paramref name="fullVector"/> as a new array (see <see cref="WritePrefix"/>).</summary>
    public float[] ToPrefix(ReadOnlySpan<float> fullVector)
    {
        var prefix = new float[PrefixDimensions];
        WritePrefix(fullVector, prefix);
        return prefix;
    }

    /// <summary>Scores two vectors of equal length under this layout's metric; higher is better.</summary>
    public float Score(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => VectorMath.Score(Metric, a, b);

    /// <summary>
    /// Checks a full vector before it is written or searched: its length, that every value is finite, and that it is not
    /// zero where the metric normalizes (the whole vector and its prefix).
    /// </summary>
    /// <param name="vector">The vector to check.</param>
    /// <param name="subject">What the vector belongs to, for the message: e.g. <c>record 42</c> or <c>query</c>.</param>
    /// <exception cref="ArgumentException">The vector would be stored or scored wrongly; the message names the subject.</exception>
    public void Validate(ReadOnlySpan<float> vector, string subject)
    {
        // A projected key mixes every value, so only the whole vector must be non-zero; WritePrefix refuses the rare vector
        // that is orthogonal to every key direction.
        var checkedPrefix = Projection is null ? PrefixDimensions : FullDimensions;
        var problem = VectorMath.FindProblem(vector, FullDimensions, checkedPrefix, NormalizesPrefix);
        if (problem is not null)
        {
            throw new ArgumentException($"Invalid vector for {subject}: {problem}", nameof(vector));
        }
    }

    /// <inheritdoc />
    public override string ToString() => Projection is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Metric} {FullDimensions}d, prefix {PrefixDimensions}d")
        : string.Create(CultureInfo.InvariantCulture, $"{Metric} {FullDimensions}d, projected key {PrefixDimensions}d (v{Projection.Version})");
}
