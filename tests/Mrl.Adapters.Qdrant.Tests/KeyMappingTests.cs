using Google.Protobuf.Collections;
using System.Text.Json;

using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class KeyMappingTests
{
    [Fact]
    public void Name_based_uuid_matches_the_RFC_example_for_the_DNS_namespace()
    {
        var dns = new Guid("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        Assert.Equal(new Guid("2ed6657d-e927-568b-95e1-2665a8aea6a2"), QdrantKeyMapping.NameBasedUuid(dns, "www.example.com"));
    }

    [Theory]
    [InlineData("doc-0001", "9c57185e-da3f-5619-9e56-59c651d288fb")]
    [InlineData("", "9717404f-413a-58c6-b325-c9c6449735d4")]
    [InlineData("ключ", "f090dba9-5125-5959-b83a-4b64e70a7607")]
    [InlineData("a/b?c", "07237d99-c31f-59b1-820e-8a44c7dfee33")]
    public void String_keys_map_to_the_documented_version_5_uuids(string key, string expected)
    {
        Assert.Equal(new Guid(expected), QdrantKeyMapping.StringKeyToUuid(key));
        Assert.Equal(new Guid(expected), QdrantKeyMapping.StringKeyToUuid(new string(key.AsSpan())));
    }

    [Fact]
    public void String_keys_map_to_distinct_version_5_rfc_variant_uuids()
    {
        var ids = Enumerable.Range(0, 20_000).Select(i => QdrantKeyMapping.StringKeyToUuid("doc-" + i)).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ids, id =>
        {
            var text = id.ToString("D");
            Assert.Equal('5', text[14]);
            Assert.Contains(text[19], "89ab");
        });
    }

    [Fact]
    public void Negative_long_key_is_rejected_with_an_argument_exception_naming_it()
    {
        var codec = QdrantKeyCodec.For<long>();
        var error = Assert.Throws<ArgumentException>(() => codec.ToPointId(-42));
        Assert.Contains("-42", error.Message, StringComparison.Ordinal);
        Assert.Contains("negative", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(long.MaxValue)]
    public void Non_negative_long_keys_are_their_own_point_ids(long key)
    {
        var codec = QdrantKeyCodec.For<long>();
        var id = codec.ToPointId(key);
        Assert.False(id.IsUuid);
        Assert.Equal((ulong)key, id.Number);
        Assert.Equal(key, codec.FromPoint(id, NoPayload));
    }

    [Fact]
    public void Point_id_above_long_range_is_not_read_as_a_long_key()
    {
        var codec = QdrantKeyCodec.For<long>();
        Assert.Throws<QdrantException>(() => codec.FromPoint(QdrantPointId.FromNumber(ulong.MaxValue), NoPayload));
        Assert.Equal(ulong.MaxValue, QdrantKeyCodec.For<ulong>().FromPoint(QdrantPointId.FromNumber(ulong.MaxValue), NoPayload));
    }

    [Fact]
    public void Guid_keys_are_their_own_point_ids()
    {
        var codec = QdrantKeyCodec.For<Guid>();
        var key = Guid.NewGuid();
        var id = codec.ToPointId(key);
        Assert.True(id.IsUuid);
        Assert.Equal(key, codec.FromPoint(id, NoPayload));
        Assert.Throws<QdrantException>(() => codec.FromPoint(QdrantPointId.FromNumber(3), NoPayload));
    }

    [Fact]
    public void String_key_comes_back_from_the_reserved_payload_field()
    {
        var codec = QdrantKeyCodec.For<string>();
        var id = codec.ToPointId("doc-7");
        var payload = JsonSerializer.SerializeToElement(new Dictionary<string, object> { [QdrantKeyMapping.KeyPayloadField] = "doc-7", ["rank"] = 7 });

        Assert.True(codec.StoresKeyInPayload);
        Assert.Equal("doc-7", codec.PayloadKey("doc-7"));
        Assert.Equal("doc-7", codec.FromPoint(id, FilterTranslationTests.Map(payload)));
        var error = Assert.Throws<QdrantException>(() => codec.FromPoint(id, FilterTranslationTests.Map(JsonSerializer.SerializeToElement(new { rank = 7 }))));
        Assert.Contains(QdrantKeyMapping.KeyPayloadField, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsupported_key_type_is_refused_with_the_supported_list()
    {
        var error = Assert.Throws<NotSupportedException>(() => QdrantKeyCodec.For<int>());
        Assert.Contains("long", error.Message, StringComparison.Ordinal);
        Assert.Contains("Guid", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("18446744073709551615")]
    [InlineData("550e8400-e29b-41d4-a716-446655440000")]
    public void Point_id_text_round_trips(string text)
    {
        Assert.Equal(text, QdrantPointId.Parse(text).ToString());
    }

    [Fact]
    public void Point_id_text_that_is_neither_number_nor_uuid_is_refused()
    {
        Assert.Throws<FormatException>(() => QdrantPointId.Parse("-1"));
        Assert.Throws<FormatException>(() => QdrantPointId.Parse("doc-1"));
    }

    private static MapField<string, Proto.Value> NoPayload => [];
}
