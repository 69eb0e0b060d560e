using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Mrl.Adapters.Filtering;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Writes the core <see cref="Filter"/> model as a Qdrant <c>Filter</c>. The semantics agree with
/// <see cref="PayloadFilterEvaluator"/>: a condition on a missing (or null) field does not match, and Qdrant's
/// <c>must_not</c> is plain negation, so the negation of such a condition matches. Differences are listed in docs/qdrant.md.
/// </summary>
internal static class QdrantFilterTranslator
{
    private static readonly SearchValues<char> PlainKeyCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <summary>Writes <paramref name="filter"/> as a Qdrant <c>Filter</c> object.</summary>
    /// <exception cref="ArgumentException">
    /// A field name Qdrant cannot address, a range whose bounds mix numbers and dates, or a filter nested deeper than <see cref="Filter.MaxDepth"/>.
    /// </exception>
    public static void WriteFilter(Utf8JsonWriter writer, Filter filter) => WriteNested(writer, Filter.CheckDepth(filter, nameof(filter)));

    private static void WriteNested(Utf8JsonWriter writer, Filter filter)
    {
        writer.WriteStartObject();
        switch (filter)
        {
            case AndFilter and:
                WriteClause(writer, "must", and.Operands);
                break;
            case OrFilter or:
                WriteClause(writer, "should", or.Operands);
                break;
            case NotFilter not:
                WriteClause(writer, "must_not", [not.Operand]);
                break;
            default:
                WriteClause(writer, "must", [filter]);
                break;
        }

        writer.WriteEndObject();
    }

    /// <summary>The key path Qdrant reads as one top-level field: bare when it is plain, double-quoted otherwise.</summary>
    /// <exception cref="ArgumentException">The name contains a double quote or a backslash, which a Qdrant key path cannot express.</exception>
    public static string KeyPath(string field)
    {
        if (!CanAddress(field))
        {
            throw new ArgumentException(
                $"The payload field name '{field}' contains a double quote or a backslash; Qdrant key paths cannot address such a field.",
                nameof(field));
        }

        // Qdrant reads '.' and '[]' in a key as a path into nested objects and arrays; the core's fields are top-level names.
        var plain = field.Length > 0 && !field.AsSpan().ContainsAnyExcept(PlainKeyCharacters);
        return plain ? field : "\"" + field + "\"";
    }

    /// <summary>Whether a key path can name <paramref name="field"/>: a quoted key has no escapes, so it cannot hold <c>"</c> or <c>\</c>.</summary>
    internal static bool CanAddress(string field) => field.AsSpan().IndexOfAny('"', '\\') < 0;

    /// <summary>The payload field a key path addresses when it is one top-level key, bare or quoted; null for a nested path.</summary>
    internal static string? TopLevelField(string keyPath)
    {
        if (keyPath.Length >= 2 && keyPath[0] == '"' && keyPath[^1] == '"' && keyPath.AsSpan(1, keyPath.Length - 2).IndexOf('"') < 0)
        {
            return keyPath[1..^1];
        }

        return keyPath.AsSpan().IndexOfAny(".[\"") < 0 ? keyPath : null;
    }

    /// <summary>
    /// Whether two key paths address the same payload field. Qdrant reports a key bare or quoted by its own rule (bare for
    /// any Unicode letters and digits), which differs from <see cref="KeyPath"/>'s (bare for ASCII only).
    /// </summary>
    internal static bool SameKeyPath(string a, string b) =>
        string.Equals(a, b, StringComparison.Ordinal) || (TopLevelField(a) is { } field && string.Equals(field, TopLevelField(b), StringComparison.Ordinal));

    private static void WriteClause(Utf8JsonWriter writer, string clause, IReadOnlyList<Filter> operands)
    {
        writer.WritePropertyName(clause);
        writer.WriteStartArray();
        foreach (var operand in operands)
        {
            WriteCondition(writer, operand);
        }

        writer.WriteEndArray();
    }

    private static void WriteCondition(Utf8JsonWriter writer, Filter filter)
    {
        switch (filter)
        {
            case EqualsFilter eq:
                WriteEquals(writer, eq.Field, eq.Value);
                break;
            case InFilter @in:
                WriteIn(writer, @in);
                break;
            case RangeFilter range:
                WriteRange(writer, range);
                break;
            case ContainsFilter contains:
                // Qdrant's match looks inside arrays: the condition holds when any element equals the value.
                WriteEquals(writer, contains.Field, contains.Value);
                break;
            case AndFilter or OrFilter or NotFilter:
                // A nested filter is itself a condition in Qdrant.
                WriteNested(writer, filter);
                break;
            default:
                throw new NotSupportedException($"The Qdrant store cannot translate a filter of type {filter.GetType().Name}.");
        }
    }

    private static void WriteEquals(Utf8JsonWriter writer, string field, FilterValue value)
    {
        writer.WriteStartObject();
        writer.WriteString("key", KeyPath(field));
        switch (value.Kind)
        {
            case FilterValueKind.Text:
            case FilterValueKind.WholeNumber:
            case FilterValueKind.Boolean:
                writer.WritePropertyName("match");
                writer.WriteStartObject();
                writer.WritePropertyName("value");
                WriteMatchValue(writer, value);
                writer.WriteEndObject();
                break;
            case FilterValueKind.Number:
                // Qdrant's match takes strings, integers and booleans only; a one-point range compares any JSON number.
                writer.WritePropertyName("range");
                writer.WriteStartObject();
                writer.WriteNumber("gte", value.Number);
                writer.WriteNumber("lte", value.Number);
                writer.WriteEndObject();
                break;
            case FilterValueKind.Time:
                writer.WritePropertyName("range");
                writer.WriteStartObject();
                writer.WriteString("gte", FormatTime(value.Time));
                writer.WriteString("lte", FormatTime(value.Time));
                writer.WriteEndObject();
                break;
            default:
                throw new NotSupportedException($"Unknown filter value kind {value.Kind}.");
        }

        writer.WriteEndObject();
    }

    private static void WriteIn(Utf8JsonWriter writer, InFilter filter)
    {
        // Qdrant's match-any lists must not repeat a value.
        var values = filter.Values.Distinct().ToArray();
        if (values.All(v => v.Kind == FilterValueKind.Text) || values.All(v => v.Kind == FilterValueKind.WholeNumber))
        {
            writer.WriteStartObject();
            writer.WriteString("key", KeyPath(filter.Field));
            writer.WritePropertyName("match");
            writer.WriteStartObject();
            writer.WritePropertyName("any");
            writer.WriteStartArray();
            foreach (var value in values)
            {
                WriteMatchValue(writer, value);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
            return;
        }

        // Mixed kinds, fractions, booleans or dates: one condition per value.
        writer.WriteStartObject();
        writer.WritePropertyName("should");
        writer.WriteStartArray();
        foreach (var value in values)
        {
            WriteEquals(writer, filter.Field, value);
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteRange(Utf8JsonWriter writer, RangeFilter range)
    {
        var bounds = range.Bounds().ToArray();
        var dates = bounds.All(b => b.Value.Kind == FilterValueKind.Time);
        if (bounds.Length == 0 || (!dates && !bounds.All(b => b.Value.IsNumeric)))
        {
            throw new ArgumentException(
                $"The range on field '{range.Field}' must have at least one bound, and its bounds must be all numbers or all dates.", nameof(range));
        }

        writer.WriteStartObject();
        writer.WriteString("key", KeyPath(range.Field));
        writer.WritePropertyName("range");
        writer.WriteStartObject();
        foreach (var (op, value) in bounds)
        {
            var name = op switch
            {
                ">" => "gt",
                ">=" => "gte",
                "<" => "lt",
                _ => "lte",
            };
            if (dates)
            {
                writer.WriteString(name, FormatTime(value.Time));
            }
            else
            {
                writer.WriteNumber(name, value.Number);
            }
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteMatchValue(Utf8JsonWriter writer, FilterValue value)
    {
        switch (value.Kind)
        {
            case FilterValueKind.Text:
                writer.WriteStringValue(value.Text);
                break;
            case FilterValueKind.WholeNumber:
                writer.WriteNumberValue(value.WholeNumber);
                break;
            default:
                writer.WriteBooleanValue(value.Boolean);
                break;
        }
    }

    // RFC 3339 in UTC with microseconds, the precision Qdrant keeps for datetimes.
    internal static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
