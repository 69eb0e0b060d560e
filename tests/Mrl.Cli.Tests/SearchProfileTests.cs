using System.Text;
using Mrl.Adapters;

namespace Mrl.Cli.Tests;

public sealed class SearchProfileTests
{
    private static SearchProfile Read(string json) => SearchProfile.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "test.json");

    [Fact]
    public void A_saved_profile_loads_equal_and_configures_layout_and_search()
    {
        var profile = new SearchProfile
        {
            FullDimensions = 768, PrefixDimensions = 128, Oversampling = 16, EfSearch = 200, Strategy = SearchStrategy.TwoPassInDatabase,
            TargetRecall = 0.99, MeasuredRecall = 0.993, MeasuredQps = 512.5, Backend = "postgres",
        };
        using var stream = new MemoryStream();
        profile.Write(stream);
        stream.Position = 0;

        var loaded = SearchProfile.Read(stream);

        Assert.Equal(profile, loaded);
        Assert.Equal(new EmbeddingLayout(768, 128), loaded.ToLayout());
        var options = loaded.ToSearchOptions(k: 5);
        Assert.Equal((5, 16, 200, SearchStrategy.TwoPassInDatabase, 80), (options.K, options.Oversampling, options.EfSearch, options.Strategy, options.CandidateCount));
    }

    [Fact]
    public void Enums_are_written_by_name_and_fields_in_camel_case()
    {
        using var stream = new MemoryStream();
        new SearchProfile { FullDimensions = 64, PrefixDimensions = 16 }.Write(stream);
        var json = Encoding.UTF8.GetString(stream.ToArray());

        Assert.Contains("\"strategy\": \"TwoPass\"", json, StringComparison.Ordinal);
        Assert.Contains("\"prefixDimensions\": 16", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"version": 2, "fullDimensions": 64, "prefixDimensions": 65}""", "Prefix dimensions must be at least 1 and at most the full dimensions")]
    [InlineData("""{"version": 2, "fullDimensions": 64, "prefixDimensions": 16, "oversampling": 0}""", "Oversampling must be at least 1")]
    [InlineData("""{"version": 1, "fullDimensions": 64, "prefixDimensions": 16, "rerank": "InProcess"}""", "has profile version 1")]
    [InlineData("""{"version": 2, "prefixDimensions": 16}""", "is not a search profile")]
    [InlineData("""{"version": 2, "fullDimensions": 64, "prefixDimensions": 16, "strategy": "Sideways"}""", "is not a search profile")]
    [InlineData("""not json""", "is not a search profile")]
    public void An_invalid_profile_is_refused_with_the_reason(string json, string reason)
    {
        var error = Assert.Throws<InvalidDataException>(() => Read(json));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.json", error.Message, StringComparison.Ordinal);
    }
}
