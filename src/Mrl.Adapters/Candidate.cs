using System.Text.Json;

namespace Mrl.Adapters;

/// <summary>A record found by pass 1, with what pass 2 needs to rescore it.</summary>
/// <param name="Key">The record's key.</param>
/// <param name="PrefixScore">The pass-1 score on the prefix; higher is better.</param>
/// <param name="FullVector">The full vector, or empty when the request did not ask for it.</param>
/// <param name="Payload">The record's payload, when it has one.</param>
public readonly record struct Candidate<TKey>(TKey Key, float PrefixScore, ReadOnlyMemory<float> FullVector, JsonElement? Payload)
    where TKey : notnull;
