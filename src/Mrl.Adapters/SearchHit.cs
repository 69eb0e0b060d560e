using System.Text.Json;

namespace Mrl.Adapters;

/// <summary>One result of a search.</summary>
/// <param name="Key">The record's key.</param>
/// <param name="Score">Higher is better: cosine similarity, inner product, or negative Euclidean or Manhattan distance.</param>
/// <param name="Payload">The record's payload, when it has one.</param>
public sealed record SearchHit<TKey>(TKey Key, float Score, JsonElement? Payload) where TKey : notnull;
