using System.Text.Json;

namespace Mrl.Adapters;

/// <summary>One stored item: its key, its full embedding and an optional JSON object of payload fields.</summary>
/// <typeparam name="TKey">The key type: <see cref="long"/>, <see cref="Guid"/> and <see cref="string"/> are supported by every store.</typeparam>
/// <param name="Key">The record's unique key.</param>
/// <param name="Vector">The full embedding; its length must equal the layout's full dimensions.</param>
/// <param name="Payload">Payload fields as a JSON object, or null. Filters match its top-level properties.</param>
public sealed record VectorRecord<TKey>(TKey Key, ReadOnlyMemory<float> Vector, JsonElement? Payload = null)
    where TKey : notnull;
