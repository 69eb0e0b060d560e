using System.Globalization;
using Mrl.Adapters;

namespace Mrl.Bench.Synthetic;

/// <summary>
/// Parameters of the MRL-like synthetic data model (see <see cref="SyntheticCorpus"/>). Validated as they are set.
/// </summary>
public sealed record SyntheticCorpusOptions
{
    private readonly int _dimensions = 768;
    private readonly int _clusters = 100;
    private readonly double _difficulty = 1.0;

    /// <summary>Values per vector. Default 768.</summary>
    public int Dimensions
    {
        get => _dimensions;
        init => _dimensions = value is >= 2 and <= EmbeddingLayout.MaxDimensions
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Dimensions), value,
                string.Create(CultureInfo.InvariantCulture, $"Dimensions must be between 2 and {EmbeddingLayout.MaxDimensions}."));
    }

    /// <summary>How many cluster centres the points gather around. Default 100.</summary>
    public int Clusters
    {
        get => _clusters;
        init => _clusters = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(Clusters), value, "At least one cluster is needed.");
    }

    /// <summary>
    /// The spread of points around their centre relative to the spread of the centres. 0 puts every point on its centre;
    /// 1 (the default) makes clusters overlap a little; higher values make neighbours harder to tell apart.
    /// </summary>
    public double Difficulty
    {
        get => _difficulty;
        init => _difficulty = value is >= 0 and <= 100 && double.IsFinite(value)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(Difficulty), value, "Difficulty must be between 0 and 100.");
    }

    /// <summary>How fast the per-dimension scale decays: <c>scale(i) = exp(-i / DecayLength) + Floor</c>. Null means <c>Dimensions / 5</c>.</summary>
    public double? DecayLength { get; init; }

    /// <summary>The scale every dimension keeps however far down it is. Default 0.05.</summary>
    public double Floor { get; init; } = 0.05;

    /// <summary>Seed for the centres and the points; equal seeds give equal data.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>How the variance is spread over the dimensions. Default <see cref="SyntheticSpectrum.Decaying"/> (Matryoshka-like).</summary>
    public SyntheticSpectrum Spectrum { get; init; } = SyntheticSpectrum.Decaying;

    /// <summary>
    /// Whether every vector is multiplied by one fixed random orthogonal matrix (seeded by <see cref="Seed"/>): the
    /// neighbours stay the same, but no prefix carries more information than another, as with a model trained without a
    /// Matryoshka loss. Costs <c>D²</c> multiply-adds per vector. Default false.
    /// </summary>
    public bool Rotated { get; init; }

    /// <summary>Whether vectors are scaled to unit length, as embedding models return them. Default true.</summary>
    public bool Normalize { get; init; } = true;
}
