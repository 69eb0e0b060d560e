namespace Mrl.Adapters.Qdrant.Tests;

public sealed class ContainsFilterTests
{
    [Fact]
    public void Contains_is_a_match_on_the_array_field_which_qdrant_applies_to_each_element()
    {
        Assert.Equal(
            """{ "must": [ { "field": { "key": "tags", "match": { "keyword": "sea" } } }, { "filter": { "mustNot": [ { "field": { "key": "rooms", "match": { "integer": "2" } } } ] } } ] }""",
            FilterTranslationTests.Translate(Filter.Contains("tags", "sea") & !Filter.Contains("rooms", 2)));
    }
}
