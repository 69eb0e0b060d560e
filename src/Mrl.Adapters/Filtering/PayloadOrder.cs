using System.Text.Json;

namespace Mrl.Adapters.Filtering;

/// <summary>
/// Orders payloads by <see cref="SortField"/>s the way the database stores order them: missing and null values lowest,
/// then strings (ordinal), numbers (by value), booleans (false first), arrays and objects, as jsonb does.
/// </summary>
public static class PayloadOrder
{
    /// <summary>Compares two payloads on <paramref name="orderBy"/>, most significant key first; 0 when they tie on every key.</summary>
    public static int Compare(JsonElement? x, JsonElement? y, IReadOnlyList<SortField> orderBy)
    {
        ArgumentNullException.ThrowIfNull(orderBy);
        foreach (var key in orderBy)
        {
            var comparison = CompareValues(Field(x, key.Field), Field(y, key.Field));
            if (comparison != 0)
            {
                return key.Descending ? -comparison : comparison;
            }
        }

        return 0;
    }

    private static JsonElement? Field(JsonElement? payload, string field) =>
        payload is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(field, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined)
            ? value
            : null;

    private static int CompareValues(JsonElement? x, JsonElement? y)
    {
        if (x is not { } a)
        {
            return y is null ? 0 : -1;
        }

        if (y is not { } b)
        {
            return 1;
        }

        var rank = Rank(a).CompareTo(Rank(b));
        if (rank != 0)
        {
            return rank;
        }

        return a.ValueKind switch
        {
            JsonValueKind.String => string.CompareOrdinal(a.GetString(), b.GetString()),
            JsonValueKind.Number => a.GetDouble().CompareTo(b.GetDouble()),
            JsonValueKind.True or JsonValueKind.False => a.GetBoolean().CompareTo(b.GetBoolean()),
            _ => string.CompareOrdinal(a.GetRawText(), b.GetRawText()),
        };
    }

    private static int Rank(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => 0,
        JsonValueKind.Number => 1,
        JsonValueKind.True or JsonValueKind.False => 2,
        JsonValueKind.Array => 3,
        _ => 4,
    };
}
