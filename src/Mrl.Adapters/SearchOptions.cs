using System.Globalization;

namespace Mrl.Adapters;

/// <summary>What one search asks for. Validated as it is set.</summary>
public sealed record SearchOptions
{
    /// <summary>The most candidates one search may ask pass 1 for.</summary>
    public const int MaxCandidates = 100_000;

    private readonly int _k = 10;
    private readonly int _oversampling = 8;
    private readonly int? _efSearch;
    private readonly SearchStrategy _strategy;

    /// <summary>How many hits to return. Default 10.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1 or more than <see cref="MaxCandidates"/>.</exception>
    public int K
    {
        get => _k;
        init
        {
            if (value < 1 || value > MaxCandidates)
            {
                throw new ArgumentOutOfRangeException(nameof(K), value,
                    string.Create(CultureInfo.InvariantCulture, $"K must be between 1 and {MaxCandidates}, got {value}."));
            }

            _k = value;
        }
    }

    /// <summary>Pass 1 fetches <c>K × Oversampling</c> candidates for pass 2. Default 8.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int Oversampling
    {
        get => _oversampling;
        init
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(Oversampling), value,
                    string.Create(CultureInfo.InvariantCulture, $"Oversampling must be at least 1, got {value}."));
            }

            _oversampling = value;
        }
    }

    /// <summary>Only records whose payload matches are returned. Null matches every record.</summary>
    public Filter? Filter { get; init; }

    /// <summary>How the search runs. Default <see cref="SearchStrategy.TwoPass"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined strategy.</exception>
    public SearchStrategy Strategy
    {
        get => _strategy;
        init
        {
            if (!Enum.IsDefined(value))
            {
                throw new ArgumentOutOfRangeException(nameof(Strategy), value, "Not a search strategy.");
            }

            _strategy = value;
        }
    }

    /// <summary>Whether the strategy has a pass 2 that rescores <c>K × Oversampling</c> candidates.</summary>
    public bool Reranks => Strategy is SearchStrategy.TwoPass or SearchStrategy.TwoPassInDatabase;

    /// <summary>The HNSW search breadth for pass 1 (pgvector <c>hnsw.ef_search</c>, Qdrant <c>hnsw_ef</c>). Raised to the candidate count when lower; null lets the store choose.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int? EfSearch
    {
        get => _efSearch;
        init
        {
            if (value is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(EfSearch), value,
                    string.Create(CultureInfo.InvariantCulture, $"EfSearch must be at least 1, got {value}."));
            }

            _efSearch = value;
        }
    }

    /// <summary>How many candidates pass 1 fetches: <c>K × Oversampling</c>, or <c>K</c> when there is no pass 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The product exceeds <see cref="MaxCandidates"/>.</exception>
    public int CandidateCount
    {
        get
        {
            if (!Reranks)
            {
                return K;
            }

            var count = (long)K * Oversampling;
            if (count > MaxCandidates)
            {
                throw new ArgumentOutOfRangeException(nameof(Oversampling), Oversampling,
                    string.Create(CultureInfo.InvariantCulture,
                        $"K × Oversampling = {count} candidates exceeds the limit of {MaxCandidates}."));
            }

            return (int)count;
        }
    }
}
