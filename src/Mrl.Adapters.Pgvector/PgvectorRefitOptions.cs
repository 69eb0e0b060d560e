namespace Mrl.Adapters.Pgvector;

/// <summary>How a refit of a projected key fits the new version, and when a new fit is worth switching to.</summary>
public sealed class PgvectorRefitOptions
{
    /// <summary>
    /// The metric the key serves: it decides a centred or uncentred fit, and must be the one the index in use was built
    /// for (its operator class tells). Default <see cref="DistanceMetric.Cosine"/>.
    /// </summary>
    public DistanceMetric Metric { get; set; } = DistanceMetric.Cosine;

    /// <summary>
    /// The key size the caller expects; null takes the table's. A size other than the table's is refused unless
    /// <see cref="ChangePrefixDimensions"/> says that the refit is meant to change it. Default null.
    /// </summary>
    public int? PrefixDimensions { get; set; }

    /// <summary>Whether the refit may give the key another size than the one in use (<see cref="PrefixDimensions"/>). Default false.</summary>
    public bool ChangePrefixDimensions { get; set; }

    /// <summary>
    /// Rows of the table to read, a seeded random sample: four fifths to fit the new version on, one fifth held out to
    /// measure both keys on. Default <see cref="ProjectionFitter.DefaultSampleSize"/>.
    /// </summary>
    public int SampleSize { get; set; } = ProjectionFitter.DefaultSampleSize;

    /// <summary>
    /// The least gain worth a refit: the share of the held-out rows' variance the new fit keeps
    /// (<see cref="ProjectionFitter.KeptVariance"/>) minus the share the key in use keeps. Below it nothing is changed, so that a
    /// rerun right after a refit does nothing. Negative values refit even when the new fit keeps a little less. Ignored when the
    /// refit changes the key's size. Default 0.01 (one percentage point).
    /// </summary>
    public double MinimumGain { get; set; } = 0.01;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SampleSize, 2, nameof(SampleSize));
        if (PrefixDimensions is { } prefix)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(prefix, 1, nameof(PrefixDimensions));
        }

        if (!(MinimumGain is >= -1 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumGain), MinimumGain, "MinimumGain is a difference of two shares: from -1 to 1.");
        }

        if (!Enum.IsDefined(Metric))
        {
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Not a distance metric.");
        }
    }
}
