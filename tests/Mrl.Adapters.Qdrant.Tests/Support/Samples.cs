using System.Globalization;
using System.Text.Json;
using Mrl.Bench.Synthetic;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>Layouts, options, records and vectors the unit tests share.</summary>
internal static class Samples
{
    public const string ApiKey = "sk-test-8d1f0c2b-do-not-log-me";

    public static EmbeddingLayout Layout(DistanceMetric metric = DistanceMetric.Cosine) => new(32, 8, metric);

    public static QdrantStoreOptions Options(EmbeddingLayout? layout = null, string collection = "docs") => new()
    {
        ApiKey = ApiKey,
        Layout = layout ?? Layout(),
        Collection = collection,
    };

    public static float[] Vectors(int count, int dimensions = 32, int seed = 7) =>
        new SyntheticCorpus(new SyntheticCorpusOptions { Dimensions = dimensions, Clusters = 4, Seed = seed }).Generate(count);

    public static IReadOnlyList<VectorRecord<TKey>> Records<TKey>(Func<int, TKey> key, int count, int dimensions = 32, int seed = 7) where TKey : notnull
    {
        var data = Vectors(count, dimensions, seed);
        return Enumerable.Range(0, count)
            .Select(i => new VectorRecord<TKey>(key(i), data.AsMemory(i * dimensions, dimensions), Payload(i)))
            .ToArray();
    }

    public static JsonElement Payload(int i) => JsonSerializer.SerializeToElement(new Dictionary<string, object>
    {
        ["rank"] = i,
        ["category"] = "c" + (i % 4).ToString(CultureInfo.InvariantCulture),
    });
}
