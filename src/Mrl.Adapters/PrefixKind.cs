namespace Mrl.Adapters;

/// <summary>How the pass-1 key of a full vector is made.</summary>
public enum PrefixKind
{
    /// <summary>The first <c>p</c> values of the full vector: right for models trained with a Matryoshka loss.</summary>
    Truncate,

    /// <summary>
    /// A learned orthonormal projection <c>P·x</c> onto <c>p</c> directions fitted to the data (see
    /// <see cref="ProjectionFitter"/>): right for models whose information is spread over every dimension.
    /// </summary>
    Projection,
}
