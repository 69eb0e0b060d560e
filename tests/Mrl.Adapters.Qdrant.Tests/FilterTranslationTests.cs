using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Mrl.Adapters.Filtering;
using Mrl.Adapters.Qdrant.Tests.Support;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests;

public sealed class FilterTranslationTests
{
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Cases => new(Catalog.Keys);

    private static readonly Dictionary<string, Filter> Catalog = new()
    {
        ["eq-string"] = Filter.Eq("category", "c1"),
        ["eq-int"] = Filter.Eq("rank", 17),
        ["eq-bool"] = Filter.Eq("even", true),
        ["eq-double"] = Filter.Eq("score", 2.5),
        ["eq-time"] = Filter.Eq("created", Epoch.AddDays(3)),
        ["in-strings"] = Filter.In("category", ["c0", "c3"]),
        ["in-ints"] = Filter.In("rank", [1, 2, 3, 58]),
        ["in-with-duplicates"] = Filter.In("rank", [4, 4, 5]),
        ["in-whole-and-fraction"] = Filter.In("score", [FilterValue.FromInt64(5), FilterValue.FromDouble(7.5)]),
        ["in-booleans"] = Filter.In("even", [true]),
        ["in-dates"] = Filter.In("created", [Epoch.AddDays(2), Epoch.AddDays(40)]),
        ["range-gte-lt"] = Filter.Range("rank", gte: 10, lt: 20),
        ["range-gt-lte-fraction"] = Filter.Range("score", gt: 4.5, lte: 10.0),
        ["date-range"] = Filter.DateRange("created", gte: Epoch.AddDays(30), lt: Epoch.AddDays(33)),
        ["date-range-gt"] = Filter.DateRange("created", gt: Epoch.AddDays(55)),
        ["and"] = Filter.Eq("category", "c2") & Filter.Range("rank", lt: 30),
        ["or"] = Filter.Eq("rank", 5) | Filter.Eq("category", "c3"),
        ["not-matches-missing-field"] = !Filter.Eq("category", "c0"),
        ["not-range-on-missing-field"] = !Filter.Range("missing", gte: 0),
        ["not-of-and"] = !(Filter.Eq("even", true) & Filter.Range("rank", gte: 10)),
        ["not-of-or"] = !(Filter.Eq("even", true) | Filter.Eq("category", "c1")),
        ["not-not"] = !!Filter.Eq("category", "c1"),
        ["no-match"] = Filter.Eq("category", "none"),
        ["type-mismatch-does-not-match"] = Filter.Eq("rank", "17"),
        ["null-field-does-not-match"] = Filter.Eq("nothing", "x") | Filter.Range("nothing", gte: 0),
        ["is-null-of-a-missing-field"] = Filter.IsNull("category"),
        ["is-null-of-a-null-field"] = Filter.IsNull("nothing"),
        ["not-is-null"] = !Filter.IsNull("category"),
        ["is-null-or-value"] = Filter.IsNull("category") | Filter.Eq("category", "c1"),
        ["array-eq-strings"] = Filter.ArrayEq("tags", [FilterValue.FromString("a"), FilterValue.FromString("b")]),
        ["array-eq-ints"] = Filter.ArrayEq("codes", [FilterValue.FromInt64(3), FilterValue.FromInt64(3), FilterValue.FromInt64(5)]),
        ["not-array-eq"] = !Filter.ArrayEq("tags", [FilterValue.FromString("a")]),
    };

    [Fact]
    public void Field_condition_at_the_top_is_wrapped_in_must()
    {
        Assert.Equal("""{ "must": [ { "field": { "key": "category", "match": { "keyword": "c1" } } } ] }""", Translate(Filter.Eq("category", "c1")));
    }

    [Fact]
    public void And_or_not_become_must_should_must_not_with_nested_filters()
    {
        var filter = Filter.And(Filter.Eq("a", 1), Filter.Or(Filter.Eq("b", true), Filter.Not(Filter.Eq("c", "x"))));
        Assert.Equal(
            """{ "must": [ { "field": { "key": "a", "match": { "integer": "1" } } }, { "filter": { "should": [ { "field": { "key": "b", "match": { "boolean": true } } }, """ +
            """{ "filter": { "mustNot": [ { "field": { "key": "c", "match": { "keyword": "x" } } } ] } } ] } } ] }""",
            Translate(filter));
    }

    [Fact]
    public void Fractional_equality_becomes_a_one_point_range()
    {
        Assert.Equal("""{ "must": [ { "field": { "key": "score", "range": { "gte": 2.5, "lte": 2.5 } } } ] }""", Translate(Filter.Eq("score", 2.5)));
    }

    [Fact]
    public void Date_bounds_are_utc_timestamps_truncated_to_microseconds()
    {
        var filter = Filter.DateRange("created", gte: new DateTimeOffset(2024, 1, 31, 2, 0, 0, TimeSpan.FromHours(2)), lt: Epoch.AddTicks(15));
        Assert.Equal(
            """{ "must": [ { "field": { "key": "created", "datetimeRange": { "lt": "2024-01-01T00:00:00.000001Z", "gte": "2024-01-31T00:00:00Z" } } } ] }""",
            Translate(filter));
    }

    [Fact]
    public void In_list_of_strings_becomes_match_keywords_without_duplicates()
    {
        Assert.Equal("""{ "must": [ { "field": { "key": "category", "match": { "keywords": { "strings": [ "c0", "c3" ] } } } } ] }""",
            Translate(Filter.In("category", ["c0", "c3", "c0"])));
    }

    [Fact]
    public void In_list_that_match_any_cannot_express_becomes_one_condition_per_value()
    {
        var filter = Filter.In("score", [FilterValue.FromInt64(5), FilterValue.FromDouble(7.5)]);
        Assert.Equal(
            """{ "must": [ { "filter": { "should": [ { "field": { "key": "score", "match": { "integer": "5" } } }, """ +
            """{ "field": { "key": "score", "range": { "gte": 7.5, "lte": 7.5 } } } ] } } ] }""",
            Translate(filter));
    }

    [Theory]
    [InlineData("plain_name-1", "plain_name-1")]
    [InlineData("with.dot", "\"with.dot\"")]
    [InlineData("arr[]", "\"arr[]\"")]
    [InlineData("with space", "\"with space\"")]
    [InlineData("naïve", "\"naïve\"")]
    public void Field_names_that_qdrant_would_read_as_a_path_are_quoted(string field, string expected)
    {
        Assert.Equal(expected, QdrantFilterTranslator.KeyPath(field));
    }

    [Theory]
    [InlineData("say \"hi\"")]
    [InlineData("back\\slash")]
    public void Field_names_a_qdrant_key_path_cannot_express_are_rejected(string field)
    {
        var error = Assert.Throws<ArgumentException>(() => Translate(Filter.Eq(field, 1)));
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Range_mixing_numbers_and_dates_is_rejected()
    {
        var range = new RangeFilter("x", FilterValue.FromInt64(1), null, FilterValue.FromDateTimeOffset(Epoch), null);
        Assert.Throws<ArgumentException>(() => Translate(range));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translation_uses_only_what_every_supported_server_has(string name)
    {
        var count = new Proto.CountPoints { CollectionName = "docs", Filter = QdrantFilterTranslator.Translate(Catalog[name]), Exact = true };
        foreach (var version in ProtoSurface.Versions)
        {
            ProtoSurface.Of(version).AssertSupports([new RecordedCall("qdrant.Points/Count", count, null)]);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translation_selects_the_same_records_as_the_core_evaluator_under_the_qdrant_model(string name)
    {
        var filter = Catalog[name];
        var translated = QdrantFilterTranslator.Translate(filter);
        var payloads = Enumerable.Range(0, 60).Select(Payload).ToList();
        payloads.Add(JsonSerializer.SerializeToElement(new Dictionary<string, object?> { ["nothing"] = null, ["rank"] = 17 }));
        payloads.Add(JsonSerializer.SerializeToElement(new { }));
        payloads.Add(JsonSerializer.SerializeToElement(new { tags = new[] { "a", "b" }, codes = new[] { 3, 3, 5 } }));
        payloads.Add(JsonSerializer.SerializeToElement(new { tags = new[] { "a" }, codes = new[] { 3, 5 } }));
        payloads.Add(JsonSerializer.SerializeToElement(new { tags = new[] { "a", "b", "c" }, codes = new[] { 3, 5, 5, 6 } }));
        payloads.Add(JsonSerializer.SerializeToElement(new { tags = new[] { "b", "c" }, codes = new[] { 5 } }));

        var expected = payloads.Select(p => PayloadFilterEvaluator.Matches(filter, p)).ToList();
        var actual = payloads.Select(p => QdrantFilterModel.Matches(translated, Map(p))).ToList();

        Assert.Equal(expected, actual);
        Assert.Equal(expected.Count, payloads.Count);
    }

    [Fact]
    public void Documented_difference_an_array_field_matches_when_any_element_does_in_qdrant_only()
    {
        var filter = Filter.Eq("tags", "a");
        var payload = JsonSerializer.SerializeToElement(new { tags = new[] { "a", "b" } });

        Assert.False(PayloadFilterEvaluator.Matches(filter, payload));
        Assert.True(QdrantFilterModel.Matches(QdrantFilterTranslator.Translate(filter), Map(payload)));
    }

    [Fact]
    public void Is_null_becomes_an_is_empty_condition_and_array_equality_a_count_and_one_match_per_distinct_value()
    {
        Assert.Equal("""{ "must": [ { "isEmpty": { "key": "category" } } ] }""", Translate(Filter.IsNull("category")));
        Assert.Equal("""{ "mustNot": [ { "isEmpty": { "key": "\"with.dot\"" } } ] }""", Translate(!Filter.IsNull("with.dot")));
        Assert.Equal(
            """{ "must": [ { "filter": { "must": [ { "field": { "key": "codes", "valuesCount": { "gte": "3", "lte": "3" } } }, """ +
            """{ "field": { "key": "codes", "match": { "integer": "3" } } }, { "field": { "key": "codes", "match": { "integer": "5" } } } ] } } ] }""",
            Translate(Filter.ArrayEq("codes", [FilterValue.FromInt64(3), FilterValue.FromInt64(3), FilterValue.FromInt64(5)])));
    }

    [Fact]
    public void Array_equality_with_an_empty_list_is_refused_because_qdrant_cannot_tell_it_from_a_missing_field()
    {
        var error = Assert.Throws<NotSupportedException>(() => QdrantFilterTranslator.Translate(Filter.ArrayEq("tags", [])));

        Assert.Contains("'tags'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Documented_differences_an_empty_array_is_null_and_array_equality_ignores_order_and_repeats_in_qdrant_only()
    {
        var empty = JsonSerializer.SerializeToElement(new { tags = Array.Empty<string>() });
        var reversed = JsonSerializer.SerializeToElement(new { tags = new[] { "b", "a" } });
        var isNull = Filter.IsNull("tags");
        var arrayEq = Filter.ArrayEq("tags", [FilterValue.FromString("a"), FilterValue.FromString("b")]);

        Assert.False(PayloadFilterEvaluator.Matches(isNull, empty));
        Assert.True(QdrantFilterModel.Matches(QdrantFilterTranslator.Translate(isNull), Map(empty)));
        Assert.False(PayloadFilterEvaluator.Matches(arrayEq, reversed));
        Assert.True(QdrantFilterModel.Matches(QdrantFilterTranslator.Translate(arrayEq), Map(reversed)));

        var repeats = Filter.ArrayEq("codes", [FilterValue.FromInt64(3), FilterValue.FromInt64(3), FilterValue.FromInt64(5)]);
        var otherRepeats = JsonSerializer.SerializeToElement(new { codes = new[] { 3, 5, 5 } });
        Assert.False(PayloadFilterEvaluator.Matches(repeats, otherRepeats));
        Assert.True(QdrantFilterModel.Matches(QdrantFilterTranslator.Translate(repeats), Map(otherRepeats)));
    }

    [Fact]
    public void Documented_difference_a_whole_number_written_with_a_fraction_matches_only_in_the_core()
    {
        var filter = Filter.Eq("rank", 17);
        using var payload = JsonDocument.Parse("""{"rank": 17.0}""");

        Assert.True(PayloadFilterEvaluator.Matches(filter, payload.RootElement));
        Assert.Equal(Proto.Value.KindOneofCase.DoubleValue, Map(payload.RootElement)["rank"].KindCase);
        Assert.False(QdrantFilterModel.Matches(QdrantFilterTranslator.Translate(filter), Map(payload.RootElement)));
    }

    [Fact]
    public void A_fold_of_twelve_thousand_conditions_translates_to_one_must_clause_and_a_hand_built_deep_filter_is_refused()
    {
        var fold = Enumerable.Range(0, 12_000).Select(i => Filter.Eq("rank", i)).Aggregate((a, b) => a & b);
        Filter deep = Filter.Eq("rank", 1);
        for (var i = 0; i < 12_000; i++)
        {
            deep = new NotFilter(deep);
        }

        Assert.Equal(12_000, QdrantFilterTranslator.Translate(fold).Must.Count);
        Assert.Throws<ArgumentException>(() => QdrantFilterTranslator.Translate(deep));
    }

    internal static string Translate(Filter filter) => JsonFormatter.Default.Format(QdrantFilterTranslator.Translate(filter));

    // The payload as the store sends it.
    internal static MapField<string, Proto.Value> Map(JsonElement payload)
    {
        var map = new MapField<string, Proto.Value>();
        QdrantProtos.AddPayload(map, payload);
        return map;
    }

    // The conformance suite's payload for record i.
    private static JsonElement Payload(int i)
    {
        var fields = new Dictionary<string, object>
        {
            ["rank"] = i,
            ["score"] = i / 2.0,
            ["even"] = i % 2 == 0,
            ["created"] = Epoch.AddDays(i).ToString("O", CultureInfo.InvariantCulture),
        };
        if (i % 10 != 9)
        {
            fields["category"] = "c" + (i % 4).ToString(CultureInfo.InvariantCulture);
        }

        return JsonSerializer.SerializeToElement(fields);
    }
}
