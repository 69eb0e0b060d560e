using System.Globalization;
using System.Text.Json;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// A small model of how Qdrant evaluates a filter on one payload, written from Qdrant 1.19's
/// <c>lib/segment/src/payload_storage/query_checker.rs</c> and <c>condition_checker.rs</c>: <c>must</c> = all,
/// <c>should</c> = any, <c>must_not</c> = none; a missing field fails every match and range condition; an array field
/// matches when any element does; <c>match.value</c> compares strings, booleans and integers (a JSON number with a
/// fraction or exponent is not an integer); <c>range</c> compares any JSON number, or a date string for date bounds.
/// It is a model, not Qdrant: only a real server can confirm it.
/// </summary>
internal static class QdrantFilterModel
{
    public static bool Matches(JsonElement filter, JsonElement? payload)
    {
        var ok = true;
        if (filter.TryGetProperty("must", out var must))
        {
            ok &= must.EnumerateArray().All(c => Condition(c, payload));
        }

        if (filter.TryGetProperty("should", out var should))
        {
            ok &= should.EnumerateArray().Any(c => Condition(c, payload));
        }

        if (filter.TryGetProperty("must_not", out var mustNot))
        {
            ok &= mustNot.EnumerateArray().All(c => !Condition(c, payload));
        }

        return ok;
    }

    private static bool Condition(JsonElement condition, JsonElement? payload)
    {
        if (!condition.TryGetProperty("key", out var key))
        {
            return Matches(condition, payload);
        }

        var field = key.GetString()!;
        if (field.StartsWith('"'))
        {
            field = field[1..^1];
        }

        if (payload is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty(field, out var value))
        {
            return false;
        }

        var values = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToArray() : [value];
        return values.Any(v => Check(condition, v));
    }

    private static bool Check(JsonElement condition, JsonElement value)
    {
        if (condition.TryGetProperty("match", out var match))
        {
            if (match.TryGetProperty("value", out var expected))
            {
                return Same(expected, value);
            }

            return match.GetProperty("any").EnumerateArray().Any(e => Same(e, value));
        }

        var range = condition.GetProperty("range");
        foreach (var bound in range.EnumerateObject())
        {
            int comparison;
            if (bound.Value.ValueKind == JsonValueKind.String)
            {
                if (value.ValueKind != JsonValueKind.String ||
                    !DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                {
                    return false;
                }

                comparison = time.CompareTo(DateTimeOffset.Parse(bound.Value.GetString()!, CultureInfo.InvariantCulture));
            }
            else
            {
                if (value.ValueKind != JsonValueKind.Number)
                {
                    return false;
                }

                comparison = value.GetDouble().CompareTo(bound.Value.GetDouble());
            }

            var ok = bound.Name switch
            {
                "gt" => comparison > 0,
                "gte" => comparison >= 0,
                "lt" => comparison < 0,
                _ => comparison <= 0,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Same(JsonElement expected, JsonElement actual) => expected.ValueKind switch
    {
        JsonValueKind.String => actual.ValueKind == JsonValueKind.String && actual.GetString() == expected.GetString(),
        JsonValueKind.True or JsonValueKind.False => actual.ValueKind == expected.ValueKind,
        JsonValueKind.Number => actual.ValueKind == JsonValueKind.Number && IsInteger(actual) && actual.GetInt64() == expected.GetInt64(),
        _ => false,
    };

    private static bool IsInteger(JsonElement number) =>
        number.GetRawText().IndexOfAny(['.', 'e', 'E']) < 0 && number.TryGetInt64(out _);
}
