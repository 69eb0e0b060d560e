using System.Globalization;

namespace Mrl.Adapters.Filtering;

/// <summary>The kind of a <see cref="FilterValue"/>.</summary>
public enum FilterValueKind
{
    /// <summary>A string, compared exactly.</summary>
    Text,

    /// <summary>A whole number.</summary>
    WholeNumber,

    /// <summary>A floating-point number.</summary>
    Number,

    /// <summary>true or false.</summary>
    Boolean,

    /// <summary>A point in time; payloads hold it as an ISO 8601 string.</summary>
    Time,
}

/// <summary>A scalar a filter compares a payload field with.</summary>
public readonly record struct FilterValue
{
    private FilterValue(FilterValueKind kind, string? text, double number, long wholeNumber, DateTimeOffset time)
    {
        Kind = kind;
        Text = text;
        Number = number;
        WholeNumber = wholeNumber;
        Time = time;
    }

    /// <summary>What the value holds.</summary>
    public FilterValueKind Kind { get; }

    /// <summary>The string, for <see cref="FilterValueKind.Text"/>.</summary>
    public string? Text { get; }

    /// <summary>The number as a double, for <see cref="FilterValueKind.Number"/> and <see cref="FilterValueKind.WholeNumber"/>; 1 or 0 for a boolean.</summary>
    public double Number { get; }

    /// <summary>The whole number, for <see cref="FilterValueKind.WholeNumber"/>.</summary>
    public long WholeNumber { get; }

    /// <summary>The time, for <see cref="FilterValueKind.Time"/>.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The boolean, for <see cref="FilterValueKind.Boolean"/>.</summary>
    public bool Boolean => Kind == FilterValueKind.Boolean && Number != 0;

    /// <summary>Whether the value is a number (whole or not), so that it can bound a numeric range.</summary>
    public bool IsNumeric => Kind is FilterValueKind.WholeNumber or FilterValueKind.Number;

    /// <summary>A string value.</summary>
    /// <exception cref="ArgumentNullException">The string is null.</exception>
    /// <exception cref="ArgumentException">The string is not valid Unicode (it has a lone surrogate), so no stored text can equal it.</exception>
    public static FilterValue FromString(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (UnicodeText.IndexOfLoneSurrogate(value) is var lone and >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"A filter string must be valid Unicode; it has a lone surrogate at index {lone}."), nameof(value));
        }

        return new(FilterValueKind.Text, value, 0, 0, default);
    }

    /// <summary>A whole-number value.</summary>
    public static FilterValue FromInt64(long value) => new(FilterValueKind.WholeNumber, null, value, value, default);

    /// <summary>A floating-point value.</summary>
    /// <exception cref="ArgumentException">The value is NaN or infinite.</exception>
    public static FilterValue FromDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentException($"A filter number must be finite, got {value.ToString(CultureInfo.InvariantCulture)}.", nameof(value));
        }

        return new(FilterValueKind.Number, null, value, 0, default);
    }

    /// <summary>A boolean value.</summary>
    public static FilterValue FromBoolean(bool value) => new(FilterValueKind.Boolean, null, value ? 1 : 0, 0, default);

    /// <summary>A point in time.</summary>
    public static FilterValue FromDateTimeOffset(DateTimeOffset value) => new(FilterValueKind.Time, null, 0, 0, value);

    /// <summary>Converts a string.</summary>
    public static implicit operator FilterValue(string value) => FromString(value);

    /// <summary>Converts a whole number.</summary>
    public static implicit operator FilterValue(long value) => FromInt64(value);

    /// <summary>Converts a whole number.</summary>
    public static implicit operator FilterValue(int value) => FromInt64(value);

    /// <summary>Converts a floating-point number.</summary>
    public static implicit operator FilterValue(double value) => FromDouble(value);

    /// <summary>Converts a boolean.</summary>
    public static implicit operator FilterValue(bool value) => FromBoolean(value);

    /// <summary>Converts a point in time.</summary>
    public static implicit operator FilterValue(DateTimeOffset value) => FromDateTimeOffset(value);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FilterValueKind.Text => Text!,
        FilterValueKind.WholeNumber => WholeNumber.ToString(CultureInfo.InvariantCulture),
        FilterValueKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        FilterValueKind.Boolean => Boolean ? "true" : "false",
        _ => Time.ToString("O", CultureInfo.InvariantCulture),
    };
}
