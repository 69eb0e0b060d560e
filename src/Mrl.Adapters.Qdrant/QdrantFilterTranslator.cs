using System.Buffers;
using Google.Protobuf.Collections;
using Mrl.Adapters.Filtering;
using Proto = Qdrant.Client.Grpc;
using Timestamp = Google.Protobuf.WellKnownTypes.Timestamp;

namespace Mrl.Adapters.Qdrant;

/// <summary>
/// Translates the core <see cref="Filter"/> model into a Qdrant <c>Filter</c> message. The semantics agree with
/// <see cref="PayloadFilterEvaluator"/>: a condition on a missing (or null) field does not match, and Qdrant's
/// <c>must_not</c> is plain negation, so the negation of such a condition matches. Differences are listed in docs/qdrant.md.
/// </summary>
internal static class QdrantFilterTranslator
{
    private static readonly SearchValues<char> PlainKeyCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");

    /// <summary>Translates <paramref name="filter"/> into a Qdrant <c>Filter</c> message.</summary>
    /// <exception cref="ArgumentException">
    /// A field name Qdrant cannot address, a range whose bounds mix numbers and dates, or a filter nested deeper than <see cref="Filter.MaxDepth"/>.
    /// </exception>
    public static Proto.Filter Translate(Filter filter) => TranslateNested(Filter.CheckDepth(filter, nameof(filter)));

    private static Proto.Filter TranslateNested(Filter filter)
    {
        var result = new Proto.Filter();
        switch (filter)
        {
            case AndFilter and:
                AddConditions(result.Must, and.Operands);
                break;
            case OrFilter or:
                AddConditions(result.Should, or.Operands);
                break;
            case NotFilter not:
                AddConditions(result.MustNot, [not.Operand]);
                break;
            default:
                AddConditions(result.Must, [filter]);
                break;
        }

        return result;
    }

    /// <summary>The filter as Qdrant receives it, or null when there is none.</summary>
    public static Proto.Filter? TranslateOrNull(Filter? filter) => filter is null ? null : Translate(filter);

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

    private static void AddConditions(RepeatedField<Proto.Condition> clause, IReadOnlyList<Filter> operands)
    {
        foreach (var operand in operands)
        {
            clause.Add(Condition(operand));
        }
    }

    private static Proto.Condition Condition(Filter filter) => filter switch
    {
        EqualsFilter eq => Equal(eq.Field, eq.Value),
        InFilter @in => In(@in),
        RangeFilter range => Range(range),

        // Qdrant's match looks inside arrays: the condition holds when any element equals the value.
        ContainsFilter contains => Equal(contains.Field, contains.Value),

        // is_empty holds for a missing field, null, and an empty array; the core's IsNull for the first two only.
        NullFilter isNull => new Proto.Condition { IsEmpty = new Proto.IsEmptyCondition { Key = KeyPath(isNull.Field) } },
        ArrayEqualsFilter array => ArrayEqual(array),

        // A nested filter is itself a condition in Qdrant.
        AndFilter or OrFilter or NotFilter => new Proto.Condition { Filter = TranslateNested(filter) },
        _ => throw new NotSupportedException($"The Qdrant store cannot translate a filter of type {filter.GetType().Name}."),
    };

    private static Proto.Condition Equal(string field, FilterValue value)
    {
        var condition = new Proto.FieldCondition { Key = KeyPath(field) };
        switch (value.Kind)
        {
            case FilterValueKind.Text:
                condition.Match = new Proto.Match { Keyword = value.Text };
                break;
            case FilterValueKind.WholeNumber:
                condition.Match = new Proto.Match { Integer = value.WholeNumber };
                break;
            case FilterValueKind.Boolean:
                condition.Match = new Proto.Match { Boolean = value.Boolean };
                break;
            case FilterValueKind.Number:
                // Qdrant's match takes strings, integers and booleans only; a one-point range compares any number.
                condition.Range = new Proto.Range { Gte = value.Number, Lte = value.Number };
                break;
            case FilterValueKind.Time:
                condition.DatetimeRange = new Proto.DatetimeRange { Gte = Time(value.Time), Lte = Time(value.Time) };
                break;
            default:
                throw new NotSupportedException($"Unknown filter value kind {value.Kind}.");
        }

        return new Proto.Condition { Field = condition };
    }

    /// <summary>
    /// An array equal to the values, as near as Qdrant can say it: exactly that many values, each of them among the
    /// elements. Qdrant has no condition on an element's position, so the order is not checked (docs/qdrant.md).
    /// </summary>
    /// <exception cref="NotSupportedException">The list is empty: Qdrant cannot tell an empty array from a missing field.</exception>
    private static Proto.Condition ArrayEqual(ArrayEqualsFilter filter)
    {
        if (filter.Values.Count == 0)
        {
            throw new NotSupportedException(
                $"The Qdrant store cannot filter on '{filter.Field}' being an empty array: Qdrant's is_empty also matches a missing or null field.");
        }

        var all = new Proto.Filter();
        var count = (ulong)filter.Values.Count;
        all.Must.Add(new Proto.Condition
        {
            Field = new Proto.FieldCondition { Key = KeyPath(filter.Field), ValuesCount = new Proto.ValuesCount { Gte = count, Lte = count } },
        });
        foreach (var value in filter.Values.Distinct())
        {
            all.Must.Add(Equal(filter.Field, value));
        }

        return new Proto.Condition { Filter = all };
    }

    private static Proto.Condition In(InFilter filter)
    {
        // Qdrant's match-any lists must not repeat a value.
        var values = filter.Values.Distinct().ToArray();
        if (values.All(v => v.Kind == FilterValueKind.Text))
        {
            var keywords = new Proto.RepeatedStrings();
            keywords.Strings.AddRange(values.Select(v => v.Text));
            return new Proto.Condition { Field = new Proto.FieldCondition { Key = KeyPath(filter.Field), Match = new Proto.Match { Keywords = keywords } } };
        }

        if (values.All(v => v.Kind == FilterValueKind.WholeNumber))
        {
            var integers = new Proto.RepeatedIntegers();
            integers.Integers.AddRange(values.Select(v => v.WholeNumber));
            return new Proto.Condition { Field = new Proto.FieldCondition { Key = KeyPath(filter.Field), Match = new Proto.Match { Integers = integers } } };
        }

        // Mixed kinds, fractions, booleans or dates: one condition per value.
        var any = new Proto.Filter();
        foreach (var value in values)
        {
            any.Should.Add(Equal(filter.Field, value));
        }

        return new Proto.Condition { Filter = any };
    }

    private static Proto.Condition Range(RangeFilter range)
    {
        var bounds = range.Bounds().ToArray();
        var dates = bounds.All(b => b.Value.Kind == FilterValueKind.Time);
        if (bounds.Length == 0 || (!dates && !bounds.All(b => b.Value.IsNumeric)))
        {
            throw new ArgumentException(
                $"The range on field '{range.Field}' must have at least one bound, and its bounds must be all numbers or all dates.", nameof(range));
        }

        var condition = new Proto.FieldCondition { Key = KeyPath(range.Field) };
        if (dates)
        {
            var r = new Proto.DatetimeRange();
            foreach (var (op, value) in bounds)
            {
                var time = Time(value.Time);
                switch (op)
                {
                    case ">": r.Gt = time; break;
                    case ">=": r.Gte = time; break;
                    case "<": r.Lt = time; break;
                    default: r.Lte = time; break;
                }
            }

            condition.DatetimeRange = r;
        }
        else
        {
            var r = new Proto.Range();
            foreach (var (op, value) in bounds)
            {
                switch (op)
                {
                    case ">": r.Gt = value.Number; break;
                    case ">=": r.Gte = value.Number; break;
                    case "<": r.Lt = value.Number; break;
                    default: r.Lte = value.Number; break;
                }
            }

            condition.Range = r;
        }

        return new Proto.Condition { Field = condition };
    }

    // Qdrant keeps datetimes to the microsecond: bounds are truncated to it, so that equal instants compare equal.
    internal static Timestamp Time(DateTimeOffset time)
    {
        var utc = time.UtcDateTime;
        return Timestamp.FromDateTime(new DateTime(utc.Ticks - utc.Ticks % 10, DateTimeKind.Utc));
    }
}
