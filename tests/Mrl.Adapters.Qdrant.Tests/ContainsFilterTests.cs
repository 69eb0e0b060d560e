using System.Text;
using System.Text.Json;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class ContainsFilterTests
{
    [Fact]
    public void Contains_is_a_match_on_the_array_field_which_qdrant_applies_to_each_element()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            QdrantFilterTranslator.WriteFilter(writer, Filter.Contains("tags", "sea") & !Filter.Contains("rooms", 2));
        }

        Assert.Equal(
            """{"must":[{"key":"tags","match":{"value":"sea"}},{"must_not":[{"key":"rooms","match":{"value":2}}]}]}""",
            Encoding.UTF8.GetString(stream.ToArray()));
    }
}
