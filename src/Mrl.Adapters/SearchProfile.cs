using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mrl.Adapters;

/// <summary>
/// A tuned search configuration, as <c>mrl tune</c> writes it: the layout to configure a store with (<see cref="ToLayout"/>),
/// the options every search runs with (<see cref="ToSearchOptions"/>), and what was measured when it was chosen.
/// Saved and loaded as JSON (camelCase, enums as names).
/// </summary>
public sealed record SearchProfile
{
    /// <summary>The format version this library writes and reads.</summary>
    public const int CurrentVersion = 2;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The format version; <see cref="CurrentVersion"/>.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Full dimensions D of the embeddings.</summary>
    public required int FullDimensions { get; init; }

    /// <summary>Prefix dimensions p to index for pass 1.</summary>
    public required int PrefixDimensions { get; init; }

    /// <summary>How vectors are compared. Default cosine.</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.Cosine;

    /// <summary>Hits per search the profile was tuned for. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Candidates fetched = K × Oversampling.</summary>
    public int Oversampling { get; init; } = 8;

    /// <summary>The HNSW search breadth for pass 1; null lets the store choose.</summary>
    public int? EfSearch { get; init; }

    /// <summary>How to search; <see cref="SearchStrategy.FullDimension"/> when a single pass over the full vectors won (then the store needs a full-dimension index).</summary>
    public SearchStrategy Strategy { get; init; } = SearchStrategy.TwoPass;

    /// <summary>The recall@K the tuning aimed for.</summary>
    public double? TargetRecall { get; init; }

    /// <summary>The recall@K measured for this configuration, against exact full-dimension kNN.</summary>
    public double? MeasuredRecall { get; init; }

    /// <summary>The queries per second measured with one client.</summary>
    public double? MeasuredQps { get; init; }

    /// <summary>Where it was measured, e.g. <c>postgres</c> or <c>memory</c>.</summary>
    public string? Backend { get; init; }

    /// <summary>When it was measured.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>The layout to create a store with.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The dimensions or the metric are invalid.</exception>
    public EmbeddingLayout ToLayout() => new(FullDimensions, PrefixDimensions, Metric);

    /// <summary>The options to search with, for <paramref name="k"/> hits (the profile's <see cref="K"/> when null).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public SearchOptions ToSearchOptions(int? k = null) => new()
    {
        K = k ?? K,
        Oversampling = Oversampling,
        EfSearch = EfSearch,
        Strategy = Strategy,
    };

    /// <summary>Reads a profile from a JSON file and checks it.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid profile; the message says why.</exception>
    public static SearchProfile Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads a profile from JSON and checks it.</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a valid profile; the message says why.</exception>
    public static SearchProfile Read(Stream stream, string source = "the profile")
    {
        ArgumentNullException.ThrowIfNull(stream);
        SearchProfile? profile;
        try
        {
            profile = JsonSerializer.Deserialize<SearchProfile>(stream, Json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source} is not a search profile: {e.Message}", e);
        }

        if (profile is null)
        {
            throw new InvalidDataException($"{source} is not a search profile: it holds null.");
        }

        if (profile.Version != CurrentVersion)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"{source} has profile version {profile.Version}; this library reads version {CurrentVersion}."));
        }

        try
        {
            profile.ToLayout();
            profile.ToSearchOptions();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{source} is not a valid search profile: {e.Message}", e);
        }

        return profile;
    }

    /// <summary>Writes the profile as indented JSON to a file, replacing it.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var stream = File.Create(path);
        Write(stream);
    }

    /// <summary>Writes the profile as indented JSON.</summary>
    public void Write(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonSerializer.Serialize(stream, this, Json);
    }
}
