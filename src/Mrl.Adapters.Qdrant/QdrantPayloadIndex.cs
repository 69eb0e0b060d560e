namespace Mrl.Adapters.Qdrant;

/// <summary>A payload index the store creates with the collection, for a field that filters use.</summary>
/// <param name="Field">The top-level payload field.</param>
/// <param name="Type">The index type; match it to the values the field holds.</param>
public sealed record QdrantPayloadIndex(string Field, QdrantPayloadSchemaType Type);
