using System.Globalization;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.VectorData.Tests;

/// <summary>Deterministic hotels with MRL-like vectors, and the exact answers the searches must give.</summary>
internal static class Corpus
{
    public const int Dimensions = 32;
    public const int Count = 60;
    public static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Cities = ["paris", "rome", "oslo"];
    private static readonly string[] AllAmenities = ["pool", "gym", "spa", "bar"];

    public static float[] Vectors(int count, int stream = 0) =>
        new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = Dimensions, Clusters = 4, Seed = 11 }).Generate(count, stream);

    public static List<Hotel> Hotels(int count = Count)
    {
        var vectors = Vectors(count);
        return Enumerable.Range(0, count).Select(i => new Hotel
        {
            HotelId = i + 1,
            HotelName = "hotel-" + i.ToString("D2", CultureInfo.InvariantCulture),
            Rating = i % 5 + 1,
            Price = 50 + i * 2.5,
            Discount = i % 4 * 0.1f,
            Parking = i % 3 == 0,
            Opened = Epoch.AddDays(i * 7),
            Tags = [Cities[i % 3], i % 2 == 0 ? "even" : "odd"],
            Amenities = AllAmenities.Where((_, a) => (i >> a & 1) == 1).ToList(),
            Description = i % 10 == 0 ? null : "a hotel with number " + i.ToString(CultureInfo.InvariantCulture),
            Embedding = vectors.AsMemory(i * Dimensions, Dimensions),
        }).ToList();
    }

    /// <summary>A query vector from the same clusters as the hotels, from another stream of the generator.</summary>
    public static ReadOnlyMemory<float> Query(int which = 0) => Vectors(which + 1, stream: 1).AsMemory(which * Dimensions, Dimensions);

    /// <summary>The exact top <paramref name="top"/> of <paramref name="candidates"/> by cosine similarity, best first.</summary>
    public static List<(Hotel Hotel, double Score)> ExactTop(IEnumerable<Hotel> candidates, ReadOnlyMemory<float> query, int top, DistanceMetric metric = DistanceMetric.Cosine)
    {
        var layout = new EmbeddingLayout(Dimensions, 8, metric);
        return candidates.Select(h => (h, (double)layout.Score(query.Span, h.Embedding!.Value.Span)))
            .OrderByDescending(x => x.Item2).ThenBy(x => x.h.HotelId).Take(top).ToList();
    }
}
