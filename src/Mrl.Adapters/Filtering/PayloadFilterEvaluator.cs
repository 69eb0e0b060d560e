using System.Globalization;
using System.Text.Json;

namespace Mrl.Adapters.Filtering;

/// <summary>Evaluates a <see cref="Filter"/> against a JSON payload, with the semantics every backend reproduces.</summary>
public static class PayloadFilterEvaluator
{
    /// <summary>Whether <paramref name="payload"/> matches <paramref name="filter"/>. A missing field or a value of another type does not match.</summary>
    /// <exception cref="ArgumentException">The filter is nested deeper than <see cref="Filter.MaxDepth"/>.</exception>
    public static bool Matches(Filter filter, JsonElement? payload)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Evaluate(Filter.CheckDepth(filter, nameof(filter)), payload);
    }

    private static bool Evaluate(Filter filter, JsonElement? payload) => filter switch
    {
        AndFilter a => a.Operands.All(o => Evaluate(o, payload)),
        OrFilter o => o.Operands.Any(x => Evaluate(x, payload)),
        NotFilter n => !Evaluate(n.Operand, payload),
        ArrayEqualsFilter a => TryGetField(payload, a.Field, out var v) && v.ValueKind == JsonValueKind.Array &&
                               v.GetArrayLength() == a.Values.Count && v.EnumerateArray().Select((x, i) => ValueEquals(x, a.Values[i])).All(m => m),
        NullFilter n => !TryGetField(payload, n.Field, out _),
        EqualsFilter e => TryGetField(payload, e.Field, out var v) && ValueEquals(v, e.Value),
        InFilter i => TryGetField(payload, i.Field, out var v) && i.Values.Any(x => ValueEquals(v, x)),
        ContainsFilter c => TryGetField(payload, c.Field, out var v) && v.ValueKind == JsonValueKind.Array && v.EnumerateArray().Any(x => ValueEquals(x, c.Value)),
        RangeFilter r => TryGetField(payload, r.Field, out var v) && InRange(v, r),
        _ => throw new NotSupportedException($"Unknown filter type {filter.GetType().Name}."),
    };

    private static bool TryGetField(JsonElement? payload, string field, out JsonElement value)
    {
        if (payload is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(field, out value))
        {
            return value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
        }

        value = default;
        return false;
    }

    private static bool ValueEquals(JsonElement element, FilterValue value) => value.Kind switch
    {
        FilterValueKind.Text => element.ValueKind == JsonValueKind.String && element.GetString() == value.Text,
        FilterValueKind.WholeNumber => element.ValueKind == JsonValueKind.Number &&
                                   (element.TryGetInt64(out var l) ? l == value.WholeNumber : element.GetDouble() == value.Number),
        FilterValueKind.Number => element.ValueKind == JsonValueKind.Number && element.GetDouble() == value.Number,
        FilterValueKind.Boolean => element.ValueKind is JsonValueKind.True or JsonValueKind.False && element.GetBoolean() == value.Boolean,
        FilterValueKind.Time => TryGetTime(element, out var t) && t == value.Time,
        _ => false,
    };

    private static bool InRange(JsonElement element, RangeFilter range)
    {
        foreach (var (op, bound) in range.Bounds())
        {
            int comparison;
            if (bound.Kind == FilterValueKind.Time)
            {
                if (!TryGetTime(element, out var t))
                {
                    return false;
                }

                comparison = t.CompareTo(bound.Time);
            }
            else
            {
                if (element.ValueKind != JsonValueKind.Number)
                {
                    return false;
                }

                comparison = element.GetDouble().CompareTo(bound.Number);
            }

            var ok = op switch
            {
                ">" => comparison > 0,
                ">=" => comparison >= 0,
                "<" => comparison < 0,
                _ => comparison <= 0,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryGetTime(JsonElement element, out DateTimeOffset time)
    {
        time = default;
        return element.ValueKind == JsonValueKind.String &&
               DateTimeOffset.TryParse(element.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time);
    }
}
