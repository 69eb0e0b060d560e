using Google.Protobuf.Collections;
using Qdrant.Client.Grpc;
using Proto = Qdrant.Client.Grpc;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// A small model of how Qdrant evaluates a filter on a point's payload, written from Qdrant 1.19's
/// <c>query_checker.rs</c> and <c>condition_checker.rs</c>: <c>must</c> needs every condition, <c>should</c> at least one,
/// <c>must_not</c> none; a condition on a missing or null field is false; a match or range on an array field holds when
/// any element satisfies it; an integer match needs an integer value; a range compares any number; <c>is_empty</c> holds
/// for a missing field, null and an empty array; <c>values_count</c> counts an array's elements.
/// </summary>
internal static class QdrantFilterModel
{
    public static bool Matches(Proto.Filter? filter, MapField<string, Value> payload)
    {
        if (filter is null)
        {
            return true;
        }

        var ok = filter.Must.All(c => Condition(c, payload));
        if (filter.Should.Count > 0)
        {
            ok &= filter.Should.Any(c => Condition(c, payload));
        }

        return ok && filter.MustNot.All(c => !Condition(c, payload));
    }

    private static bool Condition(Proto.Condition condition, MapField<string, Value> payload)
    {
        if (condition.ConditionOneOfCase == Proto.Condition.ConditionOneOfOneofCase.Filter)
        {
            return Matches(condition.Filter, payload);
        }

        // is_empty: every value is null or an empty array, so a missing field is empty too (1.19's check_is_empty).
        if (condition.ConditionOneOfCase == Proto.Condition.ConditionOneOfOneofCase.IsEmpty)
        {
            var emptyKey = Unquote(condition.IsEmpty.Key);
            return !payload.TryGetValue(emptyKey, out var present) || present.KindCase == Value.KindOneofCase.NullValue ||
                   (present.KindCase == Value.KindOneofCase.ListValue && present.ListValue.Values.Count == 0);
        }

        var field = condition.Field;
        var key = Unquote(field.Key);
        if (!payload.TryGetValue(key, out var value) || value.KindCase == Value.KindOneofCase.NullValue)
        {
            return false;
        }

        var values = value.KindCase == Value.KindOneofCase.ListValue ? value.ListValue.Values.ToArray() : [value];
        if (field.ValuesCount is { } count)
        {
            // values_count counts an array's elements, a scalar as one.
            var n = (ulong)values.Length;
            return (!count.HasGt || n > count.Gt) && (!count.HasGte || n >= count.Gte) && (!count.HasLt || n < count.Lt) && (!count.HasLte || n <= count.Lte);
        }

        return values.Any(v => Check(field, v));
    }

    private static string Unquote(string key) => key.StartsWith('"') ? key[1..^1] : key;

    private static bool Check(FieldCondition condition, Value value)
    {
        if (condition.Match is { } match)
        {
            return match.MatchValueCase switch
            {
                Match.MatchValueOneofCase.Keyword => value.KindCase == Value.KindOneofCase.StringValue && value.StringValue == match.Keyword,
                Match.MatchValueOneofCase.Integer => value.KindCase == Value.KindOneofCase.IntegerValue && value.IntegerValue == match.Integer,
                Match.MatchValueOneofCase.Boolean => value.KindCase == Value.KindOneofCase.BoolValue && value.BoolValue == match.Boolean,
                Match.MatchValueOneofCase.Keywords => value.KindCase == Value.KindOneofCase.StringValue && match.Keywords.Strings.Contains(value.StringValue),
                Match.MatchValueOneofCase.Integers => value.KindCase == Value.KindOneofCase.IntegerValue && match.Integers.Integers.Contains(value.IntegerValue),
                _ => throw new NotSupportedException($"The model has no {match.MatchValueCase} match."),
            };
        }

        if (condition.Range is { } range)
        {
            double number;
            switch (value.KindCase)
            {
                case Value.KindOneofCase.DoubleValue:
                    number = value.DoubleValue;
                    break;
                case Value.KindOneofCase.IntegerValue:
                    number = value.IntegerValue;
                    break;
                default:
                    return false;
            }

            return (!range.HasGt || number > range.Gt) && (!range.HasGte || number >= range.Gte) &&
                   (!range.HasLt || number < range.Lt) && (!range.HasLte || number <= range.Lte);
        }

        var dates = condition.DatetimeRange ?? throw new NotSupportedException("The model knows match, range and datetime_range conditions.");
        if (value.KindCase != Value.KindOneofCase.StringValue ||
            !DateTimeOffset.TryParse(value.StringValue, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }

        // Qdrant keeps microseconds.
        var t = new DateTime(time.UtcTicks - time.UtcTicks % 10, DateTimeKind.Utc);
        return (dates.Gt is null || t > dates.Gt.ToDateTime()) && (dates.Gte is null || t >= dates.Gte.ToDateTime()) &&
               (dates.Lt is null || t < dates.Lt.ToDateTime()) && (dates.Lte is null || t <= dates.Lte.ToDateTime());
    }
}
