using System.Text.Json;

namespace Mrl.Adapters.Caching;

/// <summary>One pass-1 row of a store that can tell each row's version (pgvector: <c>xmin</c>): what the cache is keyed by.</summary>
/// <param name="Key">The record's key.</param>
/// <param name="Score">The pass-1 score (higher is better).</param>
/// <param name="Version">The row's version; a write changes it. <see cref="RowVersion.Unknown"/> when the store cannot tell.</param>
/// <param name="Payload">The record's payload, if any.</param>
public readonly record struct VersionedCandidate<TKey>(TKey Key, float Score, long Version, JsonElement? Payload) where TKey : notnull;

/// <summary>
/// The two operations a store implements so that <see cref="CachedCandidateSource{TKey}"/> can put a full-vector cache in front
/// of it: pass 1 with row versions, and the full vectors of given keys. Everything else (hits, misses, stale entries, when to
/// fetch through) is the core's.
/// </summary>
public interface IVersionedCandidateSource<TKey> where TKey : notnull
{
    /// <summary>The full vectors' dimensions.</summary>
    int FullDimensions { get; }

    /// <summary>
    /// Pass 1: appends the <see cref="CandidateRequest.Count"/> nearest rows to <paramref name="rows"/> in pass-1 order. With
    /// <paramref name="fullVectors"/> it also writes row <c>i</c>'s full vector into <c>fullVectors.Slot(i)</c>, in the same
    /// round trip (a cold cache's fetch-through).
    /// </summary>
    /// <returns>The bytes of full vectors fetched.</returns>
    ValueTask<long> ReadVersionedCandidatesAsync(
        CandidateRequest request, List<VersionedCandidate<TKey>> rows, CandidateVectorBuffer? fullVectors, CancellationToken cancellationToken);

    /// <summary>
    /// The full vectors of <paramref name="slots"/>' keys, in one round trip: each found key's vector goes into
    /// <c>into.Slot(slots[key])</c>, then <paramref name="found"/> is called with the slot and the row's version. A key whose
    /// row is gone is skipped.
    /// </summary>
    /// <returns>The bytes of full vectors fetched.</returns>
    ValueTask<long> ReadFullVectorsAsync(
        IReadOnlyDictionary<TKey, int> slots, CandidateVectorBuffer into, Action<int, long> found, CancellationToken cancellationToken);
}
