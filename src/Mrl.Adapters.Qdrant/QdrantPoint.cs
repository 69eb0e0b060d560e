using System.Text.Json;

namespace Mrl.Adapters.Qdrant;

/// <summary>A point to write: its id, its vectors and its payload.</summary>
/// <param name="Id">The point id.</param>
/// <param name="Prefix">The prefix vector (already renormalized where the metric needs it); empty to write none.</param>
/// <param name="Full">The full vector; empty to write none (only the prefix is set by <c>PUT /points/vectors</c>).</param>
/// <param name="Payload">The payload object, or null.</param>
/// <param name="StoredKey">A string key to keep in <see cref="QdrantKeyMapping.KeyPayloadField"/>, or null.</param>
internal readonly record struct QdrantPoint(
    QdrantPointId Id, ReadOnlyMemory<float> Prefix, ReadOnlyMemory<float> Full, JsonElement? Payload, string? StoredKey);
