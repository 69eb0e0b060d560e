namespace Mrl.Bench.Synthetic;

/// <summary>How the synthetic data's variance is spread over the dimensions.</summary>
public enum SyntheticSpectrum
{
    /// <summary><c>scale(i) = exp(-i / DecayLength) + Floor</c>: front-loaded, as a Matryoshka model's embeddings are.</summary>
    Decaying,

    /// <summary>Every dimension has scale 1: no prefix is better than any other, and only the cluster structure is low-rank.</summary>
    Flat,
}
