namespace Mrl.Adapters;

/// <summary>
/// One key of the order a filtered scan returns records in: a payload field, ascending or descending. Missing and null
/// values come first in ascending order and last in descending order; numbers compare by value, strings ordinally.
/// </summary>
/// <param name="Field">The payload field.</param>
/// <param name="Descending">Whether larger values come first.</param>
public readonly record struct SortField(string Field, bool Descending = false);
