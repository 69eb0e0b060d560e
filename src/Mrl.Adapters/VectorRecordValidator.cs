using System.Text.Json;

namespace Mrl.Adapters;

/// <summary>The checks every store runs on a batch before it writes anything.</summary>
public static class VectorRecordValidator
{
    /// <summary>
    /// Checks every record: a key, a vector that fits the layout (length, finite values, not zero where the metric
    /// normalizes), a payload that is a JSON object of valid Unicode text or absent, and no key twice in the batch.
    /// </summary>
    /// <exception cref="ArgumentException">The first problem found, naming the record's key and position.</exception>
    public static void Validate<TKey>(EmbeddingLayout layout, IReadOnlyList<VectorRecord<TKey>> records) where TKey : notnull
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(records);
        var seen = new HashSet<TKey>(records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i] ?? throw new ArgumentException($"Record at position {i} is null.", nameof(records));
            if (record.Key is null)
            {
                throw new ArgumentException($"Record at position {i} has a null key.", nameof(records));
            }

            layout.Validate(record.Vector.Span, $"record {record.Key} (position {i})");

            if (record.Payload is { } payload && payload.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException(
                    $"Invalid payload for record {record.Key} (position {i}): expected a JSON object, got {payload.ValueKind}.", nameof(records));
            }

            if (record.Payload is { } text && !UnicodeText.IsValid(text))
            {
                throw new ArgumentException(
                    $"Invalid payload for record {record.Key} (position {i}): a field name or string is not valid Unicode (a lone surrogate).", nameof(records));
            }

            if (!seen.Add(record.Key))
            {
                throw new ArgumentException(
                    $"Record {record.Key} appears more than once in the batch (again at position {i}); upsert each key once per batch.", nameof(records));
            }
        }
    }
}
