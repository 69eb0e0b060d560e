using System.Globalization;
using System.Numerics.Tensors;
using System.Text.Json;
using Mrl.Adapters.Filtering;

namespace Mrl.Adapters.Pgvector;

/// <summary>
/// What PostgreSQL cannot store although .NET can hold it, checked before anything is sent, so that a bad record fails the whole
/// call with an <see cref="ArgumentException"/> instead of failing one batch in the database after earlier batches committed:
/// <list type="bullet">
/// <item><c>text</c> and <c>jsonb</c> cannot hold the NUL character (U+0000), in a key, a payload field name or value, or a filter value;</item>
/// <item>text must be valid UTF-16: a lone surrogate has no UTF-8 form;</item>
/// <item><c>halfvec</c> holds magnitudes up to 65,504; smaller ones round to zero below about 3e-8, so a vector that is all such values
/// would be stored as a zero vector.</item>
/// </list>
/// </summary>
internal static class PgvectorValueRules
{
    private static readonly float HalfMax = (float)Half.MaxValue;

    public static void CheckKeys<TKey>(IEnumerable<TKey> keys)
    {
        if (typeof(TKey) != typeof(string))
        {
            return;
        }

        foreach (var key in keys)
        {
            if (key is string text && Problem(text) is { } problem)
            {
                throw new ArgumentException($"Key '{Printable(text)}' {problem}; PostgreSQL text cannot hold it.", nameof(keys));
            }
        }
    }

    public static void CheckRecords<TKey>(PgvectorTable table, IReadOnlyList<VectorRecord<TKey>> records) where TKey : notnull
    {
        CheckKeys(records.Select(r => r.Key));
        var layout = table.Layout;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            // The core validator has already refused lone surrogates in payloads.
            if (record.Payload is { } payload)
            {
                CheckJson(payload, record.Key, "payload");
            }

            var vector = record.Vector.Span;
            if (table.FullType == VectorType.HalfVec)
            {
                CheckHalf(vector, $"record {record.Key} (position {i})", layout.NormalizesPrefix ? layout.PrefixDimensions : 0);
            }
            else if (table.PrefixType == VectorType.HalfVec && !layout.NormalizesPrefix)
            {
                CheckHalf(vector[..layout.PrefixDimensions], $"the prefix of record {record.Key} (position {i})", 0);
            }
        }
    }

    /// <summary>Checks a vector that is about to be sent as <c>halfvec</c>.</summary>
    public static void CheckHalf(ReadOnlySpan<float> vector, string subject) => CheckHalf(vector, subject, 0);

    public static void CheckFilter(Filter filter)
    {
        switch (filter)
        {
            case AndFilter and:
                foreach (var operand in and.Operands)
                {
                    CheckFilter(operand);
                }

                break;
            case OrFilter or:
                foreach (var operand in or.Operands)
                {
                    CheckFilter(operand);
                }

                break;
            case NotFilter not:
                CheckFilter(not.Operand);
                break;
            case FieldFilter field:
                if (Problem(field.Field) is { } fieldProblem)
                {
                    throw new ArgumentException($"Filter field '{Printable(field.Field)}' {fieldProblem}; PostgreSQL text cannot hold it.", nameof(filter));
                }

                IReadOnlyList<FilterValue> values = field switch
                {
                    EqualsFilter eq => [eq.Value],
                    InFilter inList => inList.Values,
                    ArrayEqualsFilter array => array.Values,
                    _ => [],
                };
                foreach (var value in values)
                {
                    if (value.Text is { } text && Problem(text) is { } problem)
                    {
                        throw new ArgumentException(
                            $"The filter value '{Printable(text)}' for field '{Printable(field.Field)}' {problem}; PostgreSQL text cannot hold it, so no stored value can equal it.",
                            nameof(filter));
                    }
                }

                break;
        }
    }

    private static void CheckHalf(ReadOnlySpan<float> vector, string subject, int prefixThatMustNotVanish)
    {
        var largest = TensorPrimitives.MaxMagnitude(vector);
        if (float.IsInfinity((float)(Half)largest))
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Invalid vector for {subject}: a value of magnitude {largest} does not fit halfvec (at most {HalfMax})."), nameof(vector));
        }

        if (prefixThatMustNotVanish > 0 && (Half)TensorPrimitives.MaxMagnitude(vector[..prefixThatMustNotVanish]) == Half.Zero)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Invalid vector for {subject}: its first {prefixThatMustNotVanish} values all round to zero in halfvec, so its prefix cannot be normalized."), nameof(vector));
        }
    }

    private static void CheckJson<TKey>(JsonElement element, TKey key, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (Problem(property.Name) is { } nameProblem)
                    {
                        throw new ArgumentException(
                            $"Record {key}: the name of payload field '{Printable(property.Name)}' (in {path}) {nameProblem}; PostgreSQL jsonb cannot hold it.", nameof(element));
                    }

                    CheckJson(property.Value, key, path + "." + property.Name);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    CheckJson(item, key, path + "[" + index++.ToString(CultureInfo.InvariantCulture) + "]");
                }

                break;
            case JsonValueKind.String:
                if (Problem(element.GetString()!) is { } problem)
                {
                    throw new ArgumentException($"Record {key}: the string at {path} {problem}; PostgreSQL jsonb cannot hold it.", nameof(element));
                }

                break;
        }
    }

    private static string? Problem(string text)
    {
        var nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"contains a NUL character (U+0000) at index {nul}");
        }

        var lone = UnicodeText.IndexOfLoneSurrogate(text);
        return lone < 0 ? null : string.Create(CultureInfo.InvariantCulture, $"contains a lone surrogate (U+{(int)text[lone]:X4}) at index {lone}");
    }

    // Messages are logged: show control characters and surrogates as escapes, and keep them short.
    private static string Printable(string text)
    {
        var shown = text.Length > 80 ? text[..80] + "..." : text;
        return string.Concat(shown.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}") : c.ToString()));
    }
}
